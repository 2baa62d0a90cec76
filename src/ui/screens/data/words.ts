// How the data layer's format ids and set-aside reasons read on screen.
import type { IssueReason } from '../../../data/types.ts';

export const FORMAT_NAMES: Record<string, string> = {
  trl: 'TRL preference (prompt, chosen, rejected)',
  translation: 'Translation pairs (source, chosen, rejected)',
  'alma-r': 'ALMA-R triplets (translation + scores)',
  mapping: 'Custom column mapping',
};

export const REASON_WORDS: Record<IssueReason, string> = {
  'malformed-json': 'Malformed JSON',
  'malformed-csv': 'Malformed CSV',
  'not-an-object': 'Not an object',
  'invalid-utf8': 'Invalid UTF-8',
  'missing-field': 'Missing field',
  'non-string-field': 'Field is not text',
  'empty-text': 'Empty text',
  'identical-pair': 'Chosen equals rejected',
  'duplicate-pair': 'Duplicate pair',
  'unknown-language': 'Unknown language',
  'bad-value': 'Bad value',
  'prompt-too-long': 'Prompt too long',
  'too-long': 'Too long for the model',
  tokenization: 'Tokenization failed',
};
