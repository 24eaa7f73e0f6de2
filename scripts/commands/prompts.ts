import type { Command } from 'commander';
import { PROMPTS } from '../../src/ivr/prompts.js';

/** The IVR's own catalogue: what a caller hears. */
const PROMPT_IDS = Object.keys(PROMPTS) as (keyof typeof PROMPTS)[];
import type { CliContext } from './cli-kit.js';

const BAR_WIDTH = 30;

/** "[#########.....................]  7/22 enter-pin" */
export function progressBar(done: number, total: number, label: string): string {
  const filled = Math.round((done / Math.max(1, total)) * BAR_WIDTH);
  const count = `${String(done).padStart(String(total).length)}/${total}`;
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${count} ${label}`;
}

export function registerPrompts(program: Command, ctx: CliContext): void {
  const prompts = program.command('prompts').description('the IVR prompt catalogue');

  prompts
    .command('list')
    .description('list the prompts the IVR says, and their text')
    .action(async () => {
      const rows = PROMPT_IDS.map((id) => ({ id, text: PROMPTS[id] }));
      ctx.table(rows, ['id', 'text']);
    });

  prompts
    .command('render')
    .description('render every prompt (8 kHz WAV) into the sounds folder, reusing what is already rendered')
    .action(async () => {
      const quiet = ctx.options.json === true;
      let width = 0;
      const { synthesized } = await ctx.svc.audio.renderPrompts((p) => {
        if (quiet) return;
        const line = progressBar(p.done, p.total, p.id);
        width = Math.max(width, line.length);
        ctx.io.out(`\r${line.padEnd(width)}`);
      });
      if (!quiet) ctx.io.out('\n');
      const dir = ctx.svc.config.audio.soundsDir;
      ctx.done(`rendered ${PROMPT_IDS.length} prompts into ${dir} (${synthesized} synthesised)`, {
        prompts: PROMPT_IDS.length,
        synthesized,
        soundsDir: dir,
      });
    });
}
