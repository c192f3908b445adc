/**
 * The parts of a connector's config every connector kind shares: names, the parameters of an
 * operation (a small JSON-schema subset that maps to zod and to MCP tool schemas), and what every
 * operation declares (access, Cedar action, classification). Each kind's own config schema
 * (lambdas/connectors/<kind>/) builds on these; lib/config/schema.ts assembles them.
 */
import * as z from 'zod';
import {
  AIRLOCK_TOOL_ARGUMENT_NAMES,
  isAirlockToolArgument,
  NAME_PATTERN,
  NAME_RULE,
  OPERATION_NAME_PATTERN,
  OPERATION_NAME_RULE,
} from '../contracts/names';

/** Names that become URL path segments, Cedar entity ids, SSM parameter names and tag values. */
export const nameSchema = z.string().regex(NAME_PATTERN, `expected ${NAME_RULE}`);

export const operationNameSchema = z
  .string()
  .regex(OPERATION_NAME_PATTERN, `expected ${OPERATION_NAME_RULE}`);

/** One parameter of a connector operation. */
export const parameterSchema = z.strictObject({
  type: z.enum(['string', 'number', 'integer', 'boolean']),
  description: z.string().min(1),
  required: z.boolean().default(true),
  maxLength: z.number().int().positive().optional(),
  pattern: z.string().optional(),
  enum: z.array(z.string()).min(1).optional(),
  minimum: z.number().optional(),
  maximum: z.number().optional(),
  /**
   * The parameter is meant to carry personal data (a recipient's e-mail address): the scan of what a
   * write or an export sends skips it. @default false
   */
  personalData: z.boolean().optional(),
  /**
   * For the approver of a held call: the value's name, looked up with a read operation of the same
   * connector (e.g. a GL code's account name) and shown on the approvals page and in the notice.
   * A lookup that fails leaves the name out; it never blocks the call.
   */
  nameLookup: z
    .strictObject({
      /** A read operation of the same connector. */
      operation: operationNameSchema,
      /** Its parameter that takes this value, e.g. `query`. */
      parameter: z.string().min(1),
      /** The field of its result holding the list of matches, e.g. `matches`. */
      list: z.string().min(1),
      /** The field of a match that equals this value, e.g. `code`. */
      key: z.string().min(1),
      /** The field of that match to show, e.g. `name`. */
      label: z.string().min(1),
    })
    .optional(),
});

/** What every operation of every kind declares. */
export const operationBase = {
  description: z.string().min(1),
  /** What the operation does to the enterprise system; maps to the scope `<connector>:<access>`. */
  access: z.enum(['read', 'write', 'export']),
  /** Cedar action the operation is authorized as. */
  action: z.enum(['List', 'Read', 'Write', 'Export']),
  /** Classification of the data the operation returns or changes. */
  classification: z.enum(['public', 'internal', 'confidential', 'pii']),
  parameters: z
    .record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9]*$/), parameterSchema)
    .superRefine((parameters, context) => {
      for (const name of Object.keys(parameters).filter(isAirlockToolArgument)) {
        context.addIssue({
          code: 'custom',
          path: [name],
          message: `a parameter may not be named ${AIRLOCK_TOOL_ARGUMENT_NAMES.join(', ')}: Airlock adds these to every MCP tool and takes them off before the operation sees its parameters; rename it`,
        });
      }
    })
    .default({}),
};

/** What every connector of every kind declares besides its kind-specific fields. */
export const connectorBase = {
  description: z.string().min(1),
};

export type ParameterConfig = z.infer<typeof parameterSchema>;
