/**
 * The official MCP conformance suite (`@modelcontextprotocol/conformance`, pinned in devDependencies,
 * run from node_modules: nothing is downloaded) against the local pilot's `/v1/mcp`, over mutual TLS
 * with alice's device certificate and token (through a loopback forwarder, since the suite speaks plain
 * HTTP), at both wires Airlock serves: 2025-11-25 (initialize handshake, the MCP SDK) and 2026-07-28
 * (stateless, Airlock's own layer).
 *
 * Every server scenario of the suite is either run here, with each of its checks asserted, or named
 * as not applicable with the reason (docs/mcp.md lists both); a suite upgrade that brings a scenario
 * nobody classified fails the last test.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { type LocalPilot, startLocalPilot } from '../../local/local-pilot';
import { createMtlsFetch } from '../../local/mtls-fetch';
import { type Forwarder, startConformanceForwarder } from './support/mcp-conformance-forwarder';

const run = promisify(execFile);
const ROOT = join(__dirname, '../..');
const SUITE_CLI = join(ROOT, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const NODE20_SHIM = pathToFileURL(join(__dirname, 'support/conformance-node20/register.mjs')).href;

type Wire = '2025-11-25' | '2026-07-28';

/**
 * Checks a scenario reports as failed only because the suite probes with its own diagnostic tools or
 * MCP features a tools-only gateway does not offer; each must fail for exactly that reason.
 */
const NOT_APPLICABLE_CHECKS: Readonly<Record<string, readonly { id: string; because: RegExp }[]>> = {
  'server-stateless': [
    {
      id: 'sep-2575-server-rejects-undeclared-capability',
      because: /^Not testable: .*test_missing_capability/,
    },
    { id: 'sep-2575-missing-capability-http-400', because: /^Not testable: .*test_missing_capability/ },
    {
      id: 'sep-2575-http-server-no-independent-requests-on-stream',
      because: /^Not testable: .*test_streaming_elicitation/,
    },
    { id: 'sep-2575-server-no-log-without-loglevel', because: /^Not testable: .*test_logging_tool/ },
  ],
  caching: [
    { id: 'sep-2549-prompts-list-caching-hints', because: /-32601: Method not found: prompts\/list/ },
    { id: 'sep-2549-resources-list-caching-hints', because: /-32601: Method not found: resources\/list/ },
    {
      id: 'sep-2549-resources-templates-list-caching-hints',
      because: /-32601: Method not found: resources\/templates\/list/,
    },
  ],
};

/** The scenarios that apply to Airlock (a tools-only server), at the wire each is run at. */
const APPLICABLE: readonly { scenario: string; wire: Wire }[] = [
  { scenario: 'server-initialize', wire: '2025-11-25' },
  { scenario: 'server-session-lifecycle', wire: '2025-11-25' },
  { scenario: 'ping', wire: '2025-11-25' },
  { scenario: 'tools-list', wire: '2025-11-25' },
  { scenario: 'dns-rebinding-protection', wire: '2025-11-25' },
  { scenario: 'server-stateless', wire: '2026-07-28' },
  { scenario: 'tools-list', wire: '2026-07-28' },
  { scenario: 'dns-rebinding-protection', wire: '2026-07-28' },
  { scenario: 'caching', wire: '2026-07-28' },
  { scenario: 'http-header-validation', wire: '2026-07-28' },
];

/** Server scenarios that do not apply, by the reason (the same words as docs/mcp.md). */
const NOT_APPLICABLE: Readonly<Record<string, string>> = {
  'logging-set-level': 'no logging capability (and 2026-07-28 removed logging/setLevel)',
  'completion-complete': 'no prompts or resource templates to complete',
  'tools-call-simple-text': "calls the suite's own test tool",
  'tools-call-image': "calls the suite's own test tool",
  'tools-call-audio': "calls the suite's own test tool",
  'tools-call-embedded-resource': "calls the suite's own test tool",
  'tools-call-mixed-content': "calls the suite's own test tool",
  'tools-call-with-logging': "calls the suite's own test tool",
  'tools-call-error': "calls the suite's own test tool",
  'tools-call-with-progress': "calls the suite's own test tool",
  'tools-call-sampling': "calls the suite's own test tool, which asks the client for sampling",
  'tools-call-elicitation': "calls the suite's own test tool, which asks the client for input",
  'json-schema-2020-12': "lists the suite's own test tool",
  'elicitation-sep1034-defaults': 'Airlock never asks the client for input',
  'elicitation-sep1330-enums': 'Airlock never asks the client for input',
  'server-sse-polling': 'Airlock answers each POST with JSON, keeps no event stream (GET is 405)',
  'server-sse-multiple-streams': 'Airlock answers each POST with JSON, keeps no event stream (GET is 405)',
  'resources-list': 'no resources',
  'resources-read-text': 'no resources',
  'resources-read-binary': 'no resources',
  'resources-templates-read': 'no resources',
  'resources-subscribe': 'no resources',
  'resources-unsubscribe': 'no resources',
  'sep-2164-resource-not-found': 'no resources',
  'prompts-list': 'no prompts',
  'prompts-get-simple': 'no prompts',
  'prompts-get-with-args': 'no prompts',
  'prompts-get-embedded-resource': 'no prompts',
  'prompts-get-with-image': 'no prompts',
  'http-custom-header-server-validation': 'no tool declares x-mcp-header parameters',
  'sep-2640-skills-directory': 'extension: no skills',
  'sep-2640-skills-enumeration': 'extension: no skills',
  'sep-2640-skills-manifest': 'extension: no skills',
};
const NOT_APPLICABLE_PREFIXES: Readonly<Record<string, string>> = {
  'tasks-': 'extension: no tasks',
  'input-required-result-': 'Airlock never asks the client for input (approvals go to a person)',
};

interface Check {
  readonly id: string;
  readonly status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'SKIPPED' | 'INFO';
  readonly errorMessage?: string;
}

async function suite(args: string[]): Promise<{ stdout: string; code: number }> {
  try {
    const { stdout } = await run(process.execPath, ['--import', NODE20_SHIM, SUITE_CLI, ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      maxBuffer: 16 * 1024 * 1024,
    });
    return { stdout, code: 0 };
  } catch (error) {
    const failed = error as { stdout?: string; code?: number };
    return { stdout: failed.stdout ?? '', code: typeof failed.code === 'number' ? failed.code : 1 };
  }
}

describe('Class: the official MCP conformance suite against /v1/mcp (mutual TLS, local pilot)', () => {
  let home: string;
  let pilot: LocalPilot;
  let forwarder: Forwarder;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'airlock-mcp-conformance-'));
    pilot = await startLocalPilot({ home, port: 0 });
    const files = pilot.certificates.client('alice');
    const cert = await readFile(files.cert);
    const key = await readFile(files.key);
    const ca = await readFile(pilot.certificates.ca);
    const device = createMtlsFetch({ cert, key, ca });
    const response = await device(`${pilot.url}/v1/credentials`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        workflow: 'expense-summary',
        scopes: ['receipts:read', 'erp:read', 'erp:write'],
        durationMinutes: 15,
      }),
    });
    device.close();
    expect(response.status).toBe(201);
    const { accessToken } = (await response.json()) as { accessToken: string };
    forwarder = await startConformanceForwarder({
      target: `${pilot.url}/v1/mcp`,
      cert,
      key,
      ca,
      token: accessToken,
    });
  }, 60_000);

  afterAll(async () => {
    await forwarder?.close();
    await pilot?.close();
    await rm(home, { recursive: true, force: true });
  });

  describe.each(APPLICABLE)('Scenario: $scenario at $wire', ({ scenario, wire }) => {
    it('passes every check that applies to a tools-only server', async () => {
      // Prepare
      const output = await mkdtemp(join(tmpdir(), 'airlock-conformance-results-'));
      const before = forwarder.forwarded();

      // Act
      await suite([
        'server',
        '--url',
        forwarder.url,
        '--scenario',
        scenario,
        '--spec-version',
        wire,
        '-o',
        output,
      ]);
      const [folder] = await readdir(output);
      const checks = JSON.parse(await readFile(join(output, folder, 'checks.json'), 'utf8')) as Check[];
      await rm(output, { recursive: true, force: true });

      // Assess
      expect(forwarder.forwarded()).toBeGreaterThan(before);
      const allowed = NOT_APPLICABLE_CHECKS[scenario] ?? [];
      const unexpected = checks.filter(
        (check) =>
          (check.status === 'FAILURE' || check.status === 'WARNING') &&
          !allowed.some((a) => a.id === check.id),
      );
      expect(unexpected).toEqual([]);
      for (const { id, because } of allowed) {
        const check = checks.find((candidate) => candidate.id === id);
        expect(check?.status).toBe('FAILURE');
        expect(check?.errorMessage).toMatch(because);
      }
      if (scenario !== 'server-session-lifecycle') {
        expect(checks.filter((check) => check.status === 'SUCCESS').length).toBeGreaterThan(0);
      }
    }, 60_000);
  });

  it('classifies every server scenario of the pinned suite as run here or not applicable, with a reason', async () => {
    // Act
    const { stdout } = await suite(['list', '--server']);
    const scenarios = [...stdout.matchAll(/^\s+- ([a-z0-9-]+) \[/gm)].map((match) => match[1]);

    // Assess
    expect(scenarios.length).toBeGreaterThan(30);
    const run = new Set(APPLICABLE.map((entry) => entry.scenario));
    const unclassified = scenarios.filter(
      (name) =>
        !run.has(name) &&
        NOT_APPLICABLE[name] === undefined &&
        !Object.keys(NOT_APPLICABLE_PREFIXES).some((prefix) => name.startsWith(prefix)),
    );
    expect(unclassified).toEqual([]);
  });
});
