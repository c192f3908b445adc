import type { Command } from 'commander';
import type { CliContext } from './cli-context';

/** `airlock config check`: validates the pilot config and summarizes it. */
export function registerConfigCommands(program: Command, context: CliContext): void {
  const config = program.command('config').description('Check the pilot config file.');
  config
    .command('check')
    .description('Validate the config file; exit 2 with the field path when it is invalid.')
    .action(() => {
      const parsed = context.loadConfig();
      const summary = {
        file: context.configPath,
        stage: parsed.stage,
        principals: Object.keys(parsed.principals),
        groups: Object.keys(parsed.groups),
        connectors: Object.keys(parsed.connectors),
        workflows: Object.keys(parsed.workflows),
      };
      context.result(
        [
          `${summary.file} is valid (stage "${summary.stage}").`,
          `  workflows:  ${summary.workflows.join(', ')}`,
          `  connectors: ${summary.connectors.join(', ')}`,
          `  principals: ${summary.principals.join(', ')}`,
        ],
        { valid: true, ...summary },
      );
    });
}
