/**
 * How a stack refers to what the Foundation stack holds: `Fn::GetStackOutput` of one of Foundation's
 * outputs (weak references, see lib/stacks/weak-references.ts), never `Fn::ImportValue`.
 */
import { Match } from 'aws-cdk-lib/assertions';

/** A reference (for jest's `toEqual`) to the Foundation output whose name contains `fragment`. */
export const fromFoundation = (fragment: string) => ({
  'Fn::GetStackOutput': {
    StackName: expect.stringMatching(/-Foundation$/),
    Region: { Ref: 'AWS::Region' },
    OutputName: expect.stringContaining(fragment),
  },
});

/** A reference (for CDK's `Match`) to the Foundation output whose name matches `pattern`. */
export const fromFoundationMatch = (pattern: string) => ({
  'Fn::GetStackOutput': Match.objectLike({ OutputName: Match.stringLikeRegexp(pattern) }),
});

/** Rewrites every Foundation reference in a JSON text as `Foundation:<construct>` (the resource's id without its hash). */
export function labelFoundationReferences(json: string): string {
  return json.replace(
    /\{"Fn::GetStackOutput":\{"StackName":"[^"]*-Foundation","Region":\{"Ref":"AWS::Region"\},"OutputName":"PublishOutput(?:FnGetAtt|Ref)([A-Za-z]+?)[0-9A-F]{8}[^"]*"\}\}/g,
    'Foundation:$1',
  );
}
