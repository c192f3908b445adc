/** Entry of the `airlock` CLI: assembles the commands and maps failures to exit codes. */
import { runCli } from '../cli/program';

// The AWS SDK announces on every run that its 2027 releases will need Node 22; the README says so
// once. Operators (and the desktop bridge's log) need not read it on every command.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

void runCli(process.argv).then((code) => {
  process.exitCode = code;
});
