package dev.telemetry.gateway.exporter.otlp;

import dev.telemetry.gateway.config.BatchConfig;
import dev.telemetry.gateway.config.ConfigNode;
import dev.telemetry.gateway.config.ExporterConfig;
import dev.telemetry.gateway.config.QueueConfig;
import dev.telemetry.gateway.config.RetryConfig;

import java.net.URI;
import java.time.Duration;
import java.util.Map;

/**
 * The OTLP/gRPC exporter (Jaeger 1.35+, the Collector, any OTLP backend). {@code endpoint} is
 * {@code http://host:port} (plaintext HTTP/2) or {@code https://host:port} (TLS); {@code headers} are sent with every
 * export (e.g. authorization, tenant).
 */
public record OtlpExporterConfig(String name, URI endpoint, Duration timeout, Compression compression,
                                 Map<String, String> headers, QueueConfig queue, BatchConfig batch, RetryConfig retry,
                                 dev.telemetry.gateway.config.TlsClientConfig clientTls)
    implements ExporterConfig {
  public static final String TYPE = "otlp";
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

  /** Message compression on the wire. */
  public enum Compression { GZIP, NONE }

  public OtlpExporterConfig(String name, URI endpoint, Duration timeout, Compression compression,
                            Map<String, String> headers, QueueConfig queue, BatchConfig batch, RetryConfig retry) {
    this(name, endpoint, timeout, compression, headers, queue, batch, retry,
        dev.telemetry.gateway.config.TlsClientConfig.DEFAULTS);
  }

  public OtlpExporterConfig {
    headers = Map.copyOf(headers);
    if (clientTls != dev.telemetry.gateway.config.TlsClientConfig.DEFAULTS && !"https".equals(endpoint.getScheme())) {
      throw new IllegalArgumentException("tls: set for an http:// endpoint; use https://" + endpoint.getAuthority());
    }
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

  /** Reads an exporter of type {@value #TYPE}. */
  public static OtlpExporterConfig read(String name, ConfigNode node) {
    int before = node.problems();
    QueueConfig queue = QueueConfig.read(node.object("queue"), QueueConfig.DEFAULTS);
    BatchConfig batch = BatchConfig.read(node.object("batch"));
    RetryConfig retry = RetryConfig.read(node.object("retry"));
    node.allowOnly("type", "endpoint", "timeout", "compression", "headers", "queue", "batch", "retry", "tls");
    dev.telemetry.gateway.config.TlsClientConfig tls = dev.telemetry.gateway.config.TlsClientConfig.read(node, "tls");
    java.net.URI endpoint = node.url("endpoint");
    Duration timeout = node.duration("timeout", DEFAULT_TIMEOUT, Duration.ofMillis(1));
    Compression compression = node.enumValue("compression", Compression.class, Compression.GZIP);
    java.util.Map<String, String> headers = node.stringMap("headers");
    if (node.problems() > before) {
      return null;
    }
    return node.build(null,
        () -> new OtlpExporterConfig(name, endpoint, timeout, compression, headers, queue, batch, retry, tls));
  }
}
