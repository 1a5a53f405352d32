// Shell completion scripts generated from the command registry: command names, flags, flag
// values (options), and target kinds for the commands that take targets.

interface FlagLike {
  char?: string;
  options?: readonly string[];
  hidden?: boolean;
  type?: string;
  description?: string;
}
interface CommandLike {
  summary?: string;
  hidden?: boolean;
  flags?: Record<string, FlagLike>;
  args?: Record<string, { options?: readonly string[] }>;
}

const TARGET_KINDS = 'pod/ svc/ node/ ip/ dns/ ing/ httproute/ gateway/ deploy/ sts/ ds/ rs/';

function visible(commands: Record<string, CommandLike>): [string, CommandLike][] {
  return Object.entries(commands).filter(([, c]) => !c.hidden);
}

function flagWords(cmd: CommandLike): string[] {
  const out: string[] = [];
  for (const [name, f] of Object.entries(cmd.flags ?? {})) {
    if (f.hidden) continue;
    out.push(`--${name}`);
    if (f.char) out.push(`-${f.char}`);
  }
  return [...out, '--help'];
}

function bash(commands: Record<string, CommandLike>, bin: string): string {
  const list = visible(commands);
  const values: string[] = [];
  const words: string[] = [];
  const args: string[] = [];
  for (const [id, cmd] of list) {
    for (const [name, f] of Object.entries(cmd.flags ?? {})) {
      if (f.hidden) continue;
      const names = [`--${name}`, ...(f.char ? [`-${f.char}`] : [])];
      if (f.options)
        values.push(`    ${names.map((n) => `${id}:${n}`).join('|')}) words="${f.options.join(' ')}" ;;`);
      else if (f.type === 'option' && ['snapshot', 'kubeconfig'].includes(name))
        values.push(
          `    ${names.map((n) => `${id}:${n}`).join('|')}) COMPREPLY=($(compgen -f -- "$cur")); return ;;`,
        );
      else if (f.type === 'option') values.push(`    ${names.map((n) => `${id}:${n}`).join('|')}) return ;;`);
    }
    words.push(`    ${id}) words="${flagWords(cmd).join(' ')}" ;;`);
    const argOptions = Object.values(cmd.args ?? {}).flatMap((a) => a.options ?? []);
    const takesTargets = Object.keys(cmd.args ?? {}).length > 0 && argOptions.length === 0;
    if (argOptions.length) args.push(`    ${id}) words="${argOptions.join(' ')}" ;;`);
    else if (takesTargets) args.push(`    ${id}) words="${TARGET_KINDS}"; compopt -o nospace 2>/dev/null ;;`);
  }
  const fn = `_${bin.replace(/[^A-Za-z0-9]/g, '_')}_completion`;
  return `# ${bin} completion for bash: source <(${bin} completion bash)
${fn}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" words=""
  COMPREPLY=()
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${list.map(([id]) => id).join(' ')} --help --version" -- "$cur"))
    return
  fi
  local cmd="\${COMP_WORDS[1]}"
  case "$cmd:$prev" in
${values.join('\n')}
    *)
      if [[ "$cur" == -* ]]; then
        case "$cmd" in
${words.map((w) => `    ${w}`).join('\n')}
        esac
      else
        case "$cmd" in
${args.map((w) => `    ${w}`).join('\n')}
        esac
      fi ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F ${fn} knet
complete -F ${fn} kubectl-knet
`;
}

function zsh(commands: Record<string, CommandLike>, bin: string): string {
  return `# ${bin} completion for zsh: source <(${bin} completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bash(commands, bin).split('\n').slice(1).join('\n')}`;
}

function fish(commands: Record<string, CommandLike>): string {
  const q = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const lines = ['# knet completion for fish: knet completion fish | source', 'complete -c knet -f'];
  for (const [id, cmd] of visible(commands)) {
    lines.push(`complete -c knet -n __fish_use_subcommand -a ${id} -d ${q(cmd.summary ?? '')}`);
    for (const [name, f] of Object.entries(cmd.flags ?? {})) {
      if (f.hidden) continue;
      const parts = [`complete -c knet -n '__fish_seen_subcommand_from ${id}' -l ${name}`];
      if (f.char) parts.push(`-s ${f.char}`);
      if (f.options) parts.push(`-x -a ${q(f.options.join(' '))}`);
      else if (f.type === 'option') parts.push('-r');
      if (f.description) parts.push(`-d ${q(f.description.split('\n')[0])}`);
      lines.push(parts.join(' '));
    }
  }
  return `${lines.join('\n')}\n`;
}

export function completionScript(
  shell: 'bash' | 'zsh' | 'fish',
  commands: Record<string, unknown>,
  bin = 'knet',
): string {
  const cmds = commands as Record<string, CommandLike>;
  const name = bin.replace(/ /g, '-');
  return shell === 'bash' ? bash(cmds, name) : shell === 'zsh' ? zsh(cmds, name) : fish(cmds);
}
