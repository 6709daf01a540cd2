package dev.telemetry.gateway.config;

import dev.telemetry.gateway.otlp.Signal;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The whole gateway configuration, validated and immutable. Built by {@link ConfigLoader}. */
public record GatewayConfig(Map<String, ReceiverConfig> receivers, Map<String, ProcessorConfig> processors,
                            Map<String, ExporterConfig> exporters, List<PipelineConfig> pipelines,
                            RoutingConfig routing, MemoryLimitConfig memoryLimit, AdminConfig admin,
                            LoggingConfig logging, Duration shutdownTimeout, ClusterConfig cluster,
                            Map<String, ConnectorConfig> connectors, SlosConfig slos, AlertingConfig alerting,
                            AnomaliesConfig anomalies, ForecastsConfig forecasts,
                            RemediationsConfig remediations, QuotasConfig quotas, AuthConfig auth,
                            java.nio.file.Path auditFile) {
  public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(30);

  public GatewayConfig {
    receivers = Map.copyOf(receivers);
    processors = Map.copyOf(processors);
    exporters = Map.copyOf(exporters);
    pipelines = List.copyOf(pipelines);
    connectors = Map.copyOf(connectors);
  }

  /** The SLO file and its evaluation, if SLOs are configured. */
  public Optional<SlosConfig> slosConfig() {
    return Optional.ofNullable(slos);
  }

  /** Anomaly detection, if configured. */
  public Optional<AnomaliesConfig> anomaliesConfig() {
    return Optional.ofNullable(anomalies);
  }

  /** Forecasts (cost budgets, queue disk), if configured. */
  public Optional<ForecastsConfig> forecastsConfig() {
    return Optional.ofNullable(forecasts);
  }

  /** The tamper-evident audit log's file ({@code audit.file}), if configured. */
  public Optional<java.nio.file.Path> auditFileConfig() {
    return Optional.ofNullable(auditFile);
  }

  /** Receiver authentication, if configured. */
  public Optional<AuthConfig> authConfig() {
    return Optional.ofNullable(auth);
  }

  /** Per-tenant quotas, if configured. */
  public Optional<QuotasConfig> quotasConfig() {
    return Optional.ofNullable(quotas);
  }

  /** Automated remediations, if configured. */
  public Optional<RemediationsConfig> remediationsConfig() {
    return Optional.ofNullable(remediations);
  }

  /** Where alerts go, if alerting is configured. */
  public Optional<AlertingConfig> alertingConfig() {
    return Optional.ofNullable(alerting);
  }

  /** Clustered mode, when configured; standalone otherwise. */
  public Optional<ClusterConfig> clusterConfig() {
    return Optional.ofNullable(cluster);
  }

  /** The routing table settings, if the gateway routes by rules. */
  public Optional<RoutingConfig> routingConfig() {
    return Optional.ofNullable(routing);
  }

  public Optional<PipelineConfig> pipeline(Signal signal) {
    return pipelines.stream().filter(p -> p.signal() == signal).findFirst();
  }
}
