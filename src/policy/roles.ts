/** Built-in role names. `system` belongs to DataDefender's own background jobs; no principal can be given it. */
export const ADMINISTRATOR_ROLE = 'administrator';
export const SYSTEM_ROLE = 'system';
