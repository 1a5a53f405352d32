import { Args } from '@oclif/core';
import { ANSWERED, type Answer, KnetCommand } from '../cli/base.js';

export default class Completion extends KnetCommand {
  static override summary = 'Print a shell completion script (bash, zsh or fish).';
  static override description =
    'Completes command names, flags and flag values. Load it in the current shell with ' +
    'source <(knet completion bash), or install it as docs/install.md shows.';
  static override examples = [
    '<%= config.bin %> completion bash',
    '<%= config.bin %> completion zsh',
    '<%= config.bin %> completion fish',
  ];
  static override args = {
    shell: Args.string({ description: 'the shell', options: ['bash', 'zsh', 'fish'], default: 'bash' }),
  };

  protected override async answer(): Promise<Answer> {
    const { args } = await this.parse(Completion);
    const { COMMANDS } = await import('./index.js');
    const { completionScript } = await import('../cli/completion.js');
    process.stdout.write(completionScript(args.shell as 'bash' | 'zsh' | 'fish', COMMANDS, this.config.bin));
    return ANSWERED;
  }
}
