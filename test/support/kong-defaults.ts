/**
 * The values Kong gives a service and a route that a file leaves out (Kong/kong kong/db/schema/entities/services.lua
 * and routes.lua, 3.x): what a dump spells out, so a fixture that holds them plans as unchanged.
 */
export const SERVICE_DEFAULTS = {
  connect_timeout: 60000,
  read_timeout: 60000,
  write_timeout: 60000,
  retries: 5,
  enabled: true,
}

export const ROUTE_DEFAULTS = {
  strip_path: true,
  preserve_host: false,
  regex_priority: 0,
  path_handling: 'v0',
  https_redirect_status_code: 426,
  request_buffering: true,
  response_buffering: true,
}
