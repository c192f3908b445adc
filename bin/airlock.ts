/** Entry of the `airlock` CLI: assembles the commands and maps failures to exit codes. */
import { runCli } from '../cli/program';

void runCli(process.argv).then((code) => {
  process.exitCode = code;
});
