// One dataset row as it will be trained: the masked prompt, the chosen and the rejected completion, with
// token counts and where each is cut.
import type { DatasetPreviewRow } from '../../../engine/types.ts';

export function PreviewRow({ row, maxPrompt, maxLength }: { row: DatasetPreviewRow; maxPrompt: number; maxLength: number }) {
  const promptCut = row.promptTokens > maxPrompt;
  const room = maxLength - Math.min(row.promptTokens, maxPrompt);
  return (
    <article className="preview-row" aria-label={`Row at line ${row.line}`}>
      <div className="preview-line muted small">line {row.line}</div>
      <div className="preview-part prompt">
        <div className="part-head">
          <span>Prompt</span>
          <span className="tok" title="The prompt is conditioned on, not trained on">
            {row.promptTokens} tokens · masked{promptCut ? ` · cut to ${maxPrompt}` : ''}
          </span>
        </div>
        <pre>{row.prompt}</pre>
      </div>
      <div className="preview-pair">
        <Completion kind="chosen" title="Chosen" text={row.chosen} tokens={row.chosenTokens} room={room} />
        <Completion kind="rejected" title="Rejected" text={row.rejected} tokens={row.rejectedTokens} room={room} />
      </div>
    </article>
  );
}

/** One completion of the pair, with its token count and where the length budget left after the prompt cuts it. */
function Completion({ kind, title, text, tokens, room }: { kind: string; title: string; text: string; tokens: number; room: number }) {
  return (
    <div className={`preview-part ${kind}`}>
      <div className="part-head">
        <span>{title}</span>
        <span className="tok">
          {tokens} tokens{tokens > room ? ` · cut to ${Math.max(0, room)}` : ''}
        </span>
      </div>
      <pre>{text}</pre>
    </div>
  );
}
