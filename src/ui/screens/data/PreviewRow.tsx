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
        <div className="preview-part chosen">
          <div className="part-head">
            <span>Chosen</span>
            <span className="tok">
              {row.chosenTokens} tokens{row.chosenTokens > room ? ` · cut to ${Math.max(0, room)}` : ''}
            </span>
          </div>
          <pre>{row.chosen}</pre>
        </div>
        <div className="preview-part rejected">
          <div className="part-head">
            <span>Rejected</span>
            <span className="tok">
              {row.rejectedTokens} tokens{row.rejectedTokens > room ? ` · cut to ${Math.max(0, room)}` : ''}
            </span>
          </div>
          <pre>{row.rejected}</pre>
        </div>
      </div>
    </article>
  );
}
