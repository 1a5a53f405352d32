import { Args, Command, loadHelpClass } from '@oclif/core';

/** `knet help [COMMAND]` = `knet [COMMAND] --help` (bin/knet rewrites it before oclif runs). */
export default class HelpCommand extends Command {
  static override summary = 'Show help for knet, or for one command.';
  static override examples = ['<%= config.bin %> help trace'];
  static override args = { command: Args.string({ description: 'the command' }) };
  static override strict = false;

  async run(): Promise<void> {
    const { argv } = await this.parse(HelpCommand);
    const Help = await loadHelpClass(this.config);
    await new Help(this.config).showHelp(argv as string[]);
  }
}
