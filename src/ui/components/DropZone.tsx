// A drop target with a file input inside it; both carry the same accessible name, so the zone can be
// found by name and the input stays the keyboard route.
import { useRef, useState, type ReactNode } from 'react';
import { filesFromDrop } from '../lib/drop.ts';

interface Props {
  label: string;
  accept?: string;
  multiple?: boolean;
  directory?: boolean;
  disabled?: boolean;
  onFiles: (files: File[]) => void;
  children?: ReactNode;
  buttonText: string;
}

export function DropZone({ label, accept, multiple, directory, disabled, onFiles, children, buttonText }: Props) {
  const [over, setOver] = useState(false);
  const inputRef = useRef<HTMLInputElement>(null);
  return (
    <section
      className={`dropzone${over ? ' over' : ''}${disabled ? ' disabled' : ''}`}
      aria-label={label}
      onDragOver={(e) => {
        if (disabled) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = 'copy';
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={async (e) => {
        e.preventDefault();
        setOver(false);
        if (disabled) return;
        const files = await filesFromDrop(e.dataTransfer);
        if (files.length) onFiles(files);
      }}
    >
      {children}
      <label className="button secondary file-button">
        {buttonText}
        <input
          ref={inputRef}
          type="file"
          className="visually-hidden"
          aria-label={label}
          accept={accept}
          multiple={multiple}
          disabled={disabled}
          {...(directory ? { webkitdirectory: '' } : {})}
          onChange={(e) => {
            const files = [...(e.target.files ?? [])];
            e.target.value = '';
            if (files.length) onFiles(files);
          }}
        />
      </label>
    </section>
  );
}
