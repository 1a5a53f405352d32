import { Command } from '@oclif/core';

/** `knet version` = `knet --version` (bin/knet answers both without loading oclif). */
export default class Version extends Command {
  static override summary = 'Print the version of knet, the platform and Node.js.';
  static override examples = ['<%= config.bin %> version'];

  async run(): Promise<void> {
    await this.parse(Version);
    process.stdout.write(`${this.config.userAgent}\n`);
  }
}
