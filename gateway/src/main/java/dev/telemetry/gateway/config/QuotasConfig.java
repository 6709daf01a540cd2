package dev.telemetry.gateway.config;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Per-tenant quotas (section {@code quotas}): items/s and bytes/s a tenant may send, {@code defaults} for every tenant
 * without its own entry in {@code tenants} (0: unlimited), with bursts of {@code burstSeconds} of the rate; at most
 * {@code maxTenants} tenants are tracked one by one (the rest share one budget, counted as {@code _other}). In a
 * cluster each member enforces its ring share of every rate.
 */
public record QuotasConfig(Limit defaults, Map<String, Limit> tenants, double burstSeconds, int maxTenants) {
  /** Items and bytes per second; 0 means no limit on that dimension. */
  public record Limit(long itemsPerSecond, long bytesPerSecond) {
    public static final Limit UNLIMITED = new Limit(0, 0);

    public Limit {
      if (itemsPerSecond < 0 || bytesPerSecond < 0) {
        throw new IllegalArgumentException("quotas cannot be negative");
      }
    }
  }

  public QuotasConfig {
    tenants = Map.copyOf(tenants);
  }

  static QuotasConfig read(ConfigNode n) {
    n.allowOnly("default", "tenants", "burst_seconds", "max_tenants");
    Limit defaults = n.has("default") ? limit(n.object("default")) : Limit.UNLIMITED;
    Map<String, Limit> tenants = new LinkedHashMap<>();
    if (n.has("tenants")) {
      n.object("tenants").entries().forEach((tenant, node) -> tenants.put(tenant, limit(node)));
    }
    if (!n.has("default") && !n.has("tenants")) {
      n.error(null, "set \"default\" (every tenant's quota) and/or \"tenants\" (per tenant), e.g. {\"default\": "
          + "{\"items_per_second\": 50000}}");
    }
    double burst = n.number("burst_seconds", 1, 0.1, 3600);
    int max = (int) n.integer("max_tenants", 1000, 1, 1_000_000);
    return n.build(null, () -> new QuotasConfig(defaults, tenants, burst, max));
  }

  private static Limit limit(ConfigNode n) {
    n.allowOnly("items_per_second", "bytes_per_second");
    long items = n.integer("items_per_second", 0, 0, Long.MAX_VALUE / 4);
    long bytes = n.bytes("bytes_per_second", 0, 0);
    if (!n.has("items_per_second") && !n.has("bytes_per_second")) {
      n.error(null, "set items_per_second and/or bytes_per_second (0: unlimited)");
    }
    return new Limit(items, bytes);
  }
}
