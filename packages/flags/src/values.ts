/** Flag values read as Go's strconv reads them. */

export const MAX_UINT32 = 4294967295;

/** Parses a base-10 number in 0..2^32-1 as Go's strconv.ParseUint(s, 10, 32) does. */
export function parseUint32(text: string): number | undefined {
  if (!/^[0-9]+$/.test(text)) return undefined;
  const value = Number(text);
  return value <= MAX_UINT32 ? value : undefined;
}

const TRUE_SPELLINGS: readonly string[] = ['1', 't', 'T', 'TRUE', 'true', 'True'];
const FALSE_SPELLINGS: readonly string[] = ['0', 'f', 'F', 'FALSE', 'false', 'False'];

/** strconv.ParseBool: the spellings Go accepts for a boolean flag value. */
export function parseBool(text: string): boolean | undefined {
  if (TRUE_SPELLINGS.includes(text)) return true;
  if (FALSE_SPELLINGS.includes(text)) return false;
  return undefined;
}
