package dev.telemetry.gateway.alerting.remediation;

/** What remediations may do to tenant quotas: read a tenant's rate, set it for a while, and take that back. */
public interface QuotaControl {
  /** {items per second, bytes per second} in force for the tenant (0: unlimited). */
  long[] limit(String tenant);

  /** Sets the tenant's rates until {@link #reset}. */
  void set(String tenant, long itemsPerSecond, long bytesPerSecond);

  /** Back to the configured rates. */
  void reset(String tenant);
}
