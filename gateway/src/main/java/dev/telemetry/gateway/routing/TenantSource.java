package dev.telemetry.gateway.routing;

/**
 * Where an item's tenant comes from: the request header first (e.g. {@code X-Scope-OrgID}), then a resource
 * attribute, else {@code fallback}. Any of the three may be null.
 */
public record TenantSource(String header, String attribute, String fallback) {
  public static final TenantSource NONE = new TenantSource(null, null, null);
}
