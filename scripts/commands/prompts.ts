import type { Command } from 'commander';
import { checkLanguage } from '../../src/core/language.js';
import { PROMPT_IDS, promptsOf } from '../../src/ivr/prompts.js';
import type { CliContext } from './cli-kit.js';

const BAR_WIDTH = 30;

/** "[#########.....................]  7/22 enter-pin" */
export function progressBar(done: number, total: number, label: string): string {
  const filled = Math.round((done / Math.max(1, total)) * BAR_WIDTH);
  const count = `${String(done).padStart(String(total).length)}/${total}`;
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${count} ${label}`;
}

/** The catalogue language asked for: its primary subtag, or none for English (the default catalogue). */
function languageOption(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const lang = (checkLanguage(value).split('-')[0] as string).toLowerCase();
  return lang === 'en' ? undefined : lang;
}

export function registerPrompts(program: Command, ctx: CliContext): void {
  const prompts = program.command('prompts').description('the IVR prompt catalogue (en, es, fr, de)');

  prompts
    .command('list')
    .description('list the prompts the IVR says, and their text')
    .option('--language <tag>', 'the catalogue of this language (en, es, fr, de)', 'en')
    .action(async (o: { language: string }) => {
      const texts = promptsOf(checkLanguage(o.language));
      const rows = PROMPT_IDS.map((id) => ({ id, text: texts[id] }));
      ctx.table(rows, ['id', 'text']);
    });

  prompts
    .command('render')
    .description('render every prompt (8 kHz WAV) into the sounds folder, reusing what is already rendered')
    .option('--language <tag>', 'render this language (es, fr, de go into <soundsDir>/<lang>/)')
    .action(async (o: { language?: string }) => {
      const language = languageOption(o.language);
      const quiet = ctx.options.json === true;
      let width = 0;
      const { synthesized, dir, total } = await ctx.svc.audio.renderPrompts(
        (p) => {
          if (quiet) return;
          const line = progressBar(p.done, p.total, p.id);
          width = Math.max(width, line.length);
          ctx.io.out(`\r${line.padEnd(width)}`);
        },
        language ? { language } : {},
      );
      if (!quiet) ctx.io.out('\n');
      ctx.done(`rendered ${total} prompts into ${dir} (${synthesized} synthesised)`, {
        prompts: total,
        synthesized,
        soundsDir: dir,
        language: language ?? 'en',
      });
    });
}
