/**
 * sqlString quotes a value as a SpacetimeDB SQL string literal. Stream and client ids come from
 * configuration and the watched system, so they are quoted, never pasted: a single quote is
 * doubled, as in standard SQL.
 */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
