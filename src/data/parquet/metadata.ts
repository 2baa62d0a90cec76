// Parquet footer (FileMetaData) and page headers, named from the thrift field ids of parquet.thrift.
import { readStruct, type ThriftStruct, type ThriftValue } from './thrift.ts';

export const enum PhysicalType {
  BOOLEAN = 0,
  INT32 = 1,
  INT64 = 2,
  INT96 = 3,
  FLOAT = 4,
  DOUBLE = 5,
  BYTE_ARRAY = 6,
  FIXED_LEN_BYTE_ARRAY = 7,
}

export const enum Repetition {
  REQUIRED = 0,
  OPTIONAL = 1,
  REPEATED = 2,
}

export const CODEC_NAMES = ['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'LZO', 'BROTLI', 'LZ4', 'ZSTD', 'LZ4_RAW'];
export const ENCODING_NAMES: Record<number, string> = {
  0: 'PLAIN',
  2: 'PLAIN_DICTIONARY',
  3: 'RLE',
  4: 'BIT_PACKED',
  5: 'DELTA_BINARY_PACKED',
  6: 'DELTA_LENGTH_BYTE_ARRAY',
  7: 'DELTA_BYTE_ARRAY',
  8: 'RLE_DICTIONARY',
  9: 'BYTE_STREAM_SPLIT',
};

export interface SchemaElement {
  type?: PhysicalType;
  typeLength?: number;
  repetition?: Repetition;
  name: string;
  numChildren?: number;
  convertedType?: number;
  /** The LogicalType union's member id (1 STRING, 2 MAP, 3 LIST, …). */
  logicalType?: number;
}

export interface ColumnMeta {
  type: PhysicalType;
  path: string[];
  codec: number;
  numValues: number;
  totalCompressedSize: number;
  dataPageOffset: number;
  dictionaryPageOffset?: number;
}

export interface RowGroup {
  columns: ColumnMeta[];
  numRows: number;
}

export interface FileMetaData {
  version: number;
  schema: SchemaElement[];
  numRows: number;
  rowGroups: RowGroup[];
  createdBy?: string;
}

export const enum PageType {
  DATA_PAGE = 0,
  INDEX_PAGE = 1,
  DICTIONARY_PAGE = 2,
  DATA_PAGE_V2 = 3,
}

export interface PageHeader {
  type: PageType;
  uncompressedSize: number;
  compressedSize: number;
  dataPage?: { numValues: number; encoding: number; defEncoding: number; repEncoding: number };
  dictionaryPage?: { numValues: number; encoding: number };
  dataPageV2?: {
    numValues: number;
    numNulls: number;
    numRows: number;
    encoding: number;
    defLength: number;
    repLength: number;
    isCompressed: boolean;
  };
}

const utf8 = new TextDecoder();
const str = (v: ThriftValue | undefined): string | undefined => (v instanceof Uint8Array ? utf8.decode(v) : undefined);
const num = (v: ThriftValue | undefined): number | undefined =>
  typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined;
const req = (v: ThriftValue | undefined, what: string): number => {
  const n = num(v);
  if (n === undefined) throw new Error(`Parquet metadata lacks ${what}`);
  return n;
};
const list = (v: ThriftValue | undefined): ThriftValue[] => (Array.isArray(v) ? v : []);
const struct = (v: ThriftValue | undefined): ThriftStruct | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof Map) ? (v as ThriftStruct) : undefined;

export function decodeFileMetaData(buf: Uint8Array): FileMetaData {
  const { value: m } = readStruct(buf);
  const schema = list(m[2]).map((e): SchemaElement => {
    const s = struct(e)!;
    const lt = struct(s[10]);
    return {
      type: num(s[1]),
      typeLength: num(s[2]),
      repetition: num(s[3]),
      name: str(s[4]) ?? '',
      numChildren: num(s[5]),
      convertedType: num(s[6]),
      logicalType: lt ? Number(Object.keys(lt)[0]) : undefined,
    };
  });
  const rowGroups = list(m[4]).map((g): RowGroup => {
    const rg = struct(g)!;
    return {
      numRows: req(rg[3], 'row group num_rows'),
      columns: list(rg[1]).map((c): ColumnMeta => {
        const cc = struct(c)!;
        if (cc[1] !== undefined) throw new Error('column chunks in external files are not supported');
        const md = struct(cc[3]);
        if (!md) throw new Error('column chunk has no metadata');
        return {
          type: req(md[1], 'column type'),
          path: list(md[3]).map((p) => str(p) ?? ''),
          codec: req(md[4], 'column codec'),
          numValues: req(md[5], 'column num_values'),
          totalCompressedSize: req(md[7], 'column total_compressed_size'),
          dataPageOffset: req(md[9], 'column data_page_offset'),
          dictionaryPageOffset: num(md[11]),
        };
      }),
    };
  });
  return { version: num(m[1]) ?? 1, schema, numRows: req(m[3], 'num_rows'), rowGroups, createdBy: str(m[6]) };
}

export function decodePageHeader(buf: Uint8Array, offset: number): { header: PageHeader; end: number } {
  const { value: h, end } = readStruct(buf, offset);
  const dp = struct(h[5]);
  const dict = struct(h[7]);
  const v2 = struct(h[8]);
  const header: PageHeader = {
    type: req(h[1], 'page type'),
    uncompressedSize: req(h[2], 'page uncompressed size'),
    compressedSize: req(h[3], 'page compressed size'),
  };
  if (dp) {
    header.dataPage = {
      numValues: req(dp[1], 'page num_values'),
      encoding: req(dp[2], 'page encoding'),
      defEncoding: num(dp[3]) ?? 3,
      repEncoding: num(dp[4]) ?? 3,
    };
  }
  if (dict) header.dictionaryPage = { numValues: req(dict[1], 'dictionary num_values'), encoding: num(dict[2]) ?? 0 };
  if (v2) {
    header.dataPageV2 = {
      numValues: req(v2[1], 'page num_values'),
      numNulls: num(v2[2]) ?? 0,
      numRows: num(v2[3]) ?? 0,
      encoding: req(v2[4], 'page encoding'),
      defLength: req(v2[5], 'definition levels length'),
      repLength: req(v2[6], 'repetition levels length'),
      isCompressed: v2[7] === undefined ? true : v2[7] === true,
    };
  }
  return { header, end };
}
