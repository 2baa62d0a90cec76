/** A string column value whose bytes are not valid UTF-8; the row converter reports it (rows/fields.ts). */
export class InvalidUtf8 {
  constructor(readonly text: string) {}
}
