/**
 * module-def: the module's `RawModuleDefV9` as `GET /v1/database/:db/schema?version=9` returns it
 * (SATS-JSON), built from the same table and reducer lists the host runs, so a client that
 * formats rows against the schema (as `spacetime subscribe` does) sees the real columns.
 */
import { LIFECYCLE, REDUCERS } from './module-db.js';
import { TABLES, algebraicType } from './schema.js';

function pascalCase(name: string): string {
  return name.replace(/(^|_)([a-z])/g, (_m, _u: string, c: string) => c.toUpperCase());
}

/** rawModuleDefV9 describes the autopilot-sync module: typespace, public tables, reducers, type names. */
export function rawModuleDefV9(): Record<string, unknown> {
  return {
    typespace: {
      types: TABLES.map((t) => ({ Product: { elements: t.columns.map((c) => ({ name: { some: c.name }, algebraic_type: algebraicType(c.type) })) } })),
    },
    tables: TABLES.map((t, i) => {
      const pk = t.columns.findIndex((c) => c.name === t.primaryKey);
      return {
        name: t.name,
        product_type_ref: i,
        primary_key: [pk],
        indexes: [{ name: { some: `${t.name}_${t.primaryKey}_idx_btree` }, accessor_name: { some: t.primaryKey }, algorithm: { BTree: [pk] } }],
        constraints: [{ name: { some: `${t.name}_${t.primaryKey}_key` }, data: { Unique: { columns: [pk] } } }],
        sequences: [],
        schedule: { none: [] },
        table_type: { User: [] },
        table_access: { Public: [] },
      };
    }),
    reducers: REDUCERS.map((r) => ({
      name: r.name,
      params: { elements: r.params.map((p) => ({ name: { some: p.name }, algebraic_type: algebraicType(p.type) })) },
      lifecycle: LIFECYCLE[r.name] !== undefined ? { some: { [LIFECYCLE[r.name] as string]: [] } } : { none: [] },
    })),
    types: TABLES.map((t, i) => ({ name: { scope: [], name: pascalCase(t.name) }, ty: i, custom_ordering: true })),
    misc_exports: [],
    row_level_security: [],
  };
}
