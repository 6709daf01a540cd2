package dev.telemetry.gateway.config;

import java.net.URI;
import java.time.Duration;
import java.util.Map;

/**
 * The OTLP/gRPC exporter (Jaeger 1.35+, the Collector, any OTLP backend). {@code endpoint} is
 * {@code http://host:port} (plaintext HTTP/2) or {@code https://host:port} (TLS); {@code headers} are sent with every
 * export (e.g. authorization, tenant).
 */
public record OtlpExporterConfig(String name, URI endpoint, Duration timeout, Compression compression,
                                 Map<String, String> headers, QueueConfig queue, BatchConfig batch, RetryConfig retry)
    implements ExporterConfig {
  public static final String TYPE = "otlp";
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

  /** Message compression on the wire. */
  public enum Compression { GZIP, NONE }

  public OtlpExporterConfig {
    headers = Map.copyOf(headers);
    if (endpoint.getHost() == null || endpoint.getPort() < 0) {
      throw new IllegalArgumentException("endpoint needs a host and a port");
    }
  }

  public boolean tls() {
    return "https".equals(endpoint.getScheme());
  }

  @Override
  public String type() {
    return TYPE;
  }
}
