// The `cpo-studio` / `npm run cli` entry point: runs the CLI (cli.ts, which tests call in-process) and exits with its code.
import { runCli } from './cli.ts';

runCli(process.argv.slice(2)).then((code) => process.exit(code));
