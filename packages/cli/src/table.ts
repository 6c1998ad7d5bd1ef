/**
 * Aligned columns as Go's text/tabwriter lays them out with
 * `NewWriter(out, 0, 4, 2, ' ', 0)`: each row is a list of cells, every
 * cell but the last ends a column, and a column is as wide as its widest
 * cell plus two spaces. As in tabwriter, a column spans only consecutive
 * rows that have it, and the last cell of a row is never padded.
 */

const PADDING = 2;

/** Display width in characters (tabwriter counts runes, not bytes). */
function width(text: string): number {
  return [...text].length;
}

export function formatTable(rows: readonly (readonly string[])[]): string {
  const out: string[] = [];
  const widths: number[] = [];

  const writeRows = (from: number, to: number): void => {
    for (const row of rows.slice(from, to)) {
      const line = row.map((cell, column) => {
        const columnWidth = widths[column];
        const isTerminated = column < row.length - 1;
        return isTerminated && columnWidth !== undefined
          ? cell + ' '.repeat(columnWidth - width(cell))
          : cell;
      });
      out.push(line.join('') + '\n');
    }
  };

  // tabwriter's format(): a row with a cell in the next column opens a
  // block of consecutive rows that share that column; widths are per block.
  const format = (firstRow: number, endRow: number): void => {
    const column = widths.length;
    let blockStart = firstRow;
    for (let index = firstRow; index < endRow; index++) {
      if (column >= (rows[index]?.length ?? 0) - 1) continue;
      writeRows(blockStart, index);
      blockStart = index;
      let columnWidth = 0;
      for (; index < endRow; index++) {
        const row = rows[index] ?? [];
        if (column >= row.length - 1) break;
        columnWidth = Math.max(columnWidth, width(row[column] ?? '') + PADDING);
      }
      widths.push(columnWidth);
      format(blockStart, index);
      widths.pop();
      blockStart = index;
    }
    writeRows(blockStart, endRow);
  };

  format(0, rows.length);
  return out.join('');
}
