// PostGraphile 5 over the bench database, configured as the issue measured it: the Amber preset
// with simplified inflection, production mode, a pool of 10 connections, no GraphiQL.
import { makePgService } from "postgraphile/adaptors/pg";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { PgSimplifyInflectionPreset } from "@graphile/simplify-inflection";

const url = process.env.DATABASE_URL;
if (!url) throw new Error("DATABASE_URL is required");

/** @type {GraphileConfig.Preset} */
export default {
  extends: [PostGraphileAmberPreset, PgSimplifyInflectionPreset],
  pgServices: [makePgService({ connectionString: url, schemas: ["public"], poolConfig: { max: 10 } })],
  grafserv: { graphqlPath: "/graphql", graphiql: false, watch: false },
  grafast: { explain: false },
};
