package dev.telemetry.gateway.receiver.otlp;

import dev.telemetry.gateway.config.ConfigNode;
import dev.telemetry.gateway.config.HostPort;
import dev.telemetry.gateway.config.ReceiverConfig;
import java.util.LinkedHashMap;
import java.util.Map;

import java.time.Duration;

/**
 * The OTLP receiver: gRPC and/or HTTP listeners (null when disabled) and the limits applied to every request.
 * {@code maxRequestBytes} bounds the body as sent (compressed), {@code maxDecompressedBytes} what it may inflate to;
 * {@code retryAfter} is the delay suggested to clients when the gateway is back-pressured.
 */
public record OtlpReceiverConfig(String name, HostPort grpc, HostPort http, long maxRequestBytes,
                                 long maxDecompressedBytes, Duration retryAfter,
                                 dev.telemetry.gateway.config.TlsServerConfig grpcTls,
                                 dev.telemetry.gateway.config.TlsServerConfig httpTls, ReceiverLimits limits)
    implements ReceiverConfig {
  public static final String TYPE = "otlp";
  public static final HostPort DEFAULT_GRPC = new HostPort("localhost", 4317);
  public static final HostPort DEFAULT_HTTP = new HostPort("localhost", 4318);
  public static final long DEFAULT_MAX_REQUEST_BYTES = 4L * 1024 * 1024;
  public static final long DEFAULT_MAX_DECOMPRESSED_BYTES = 16L * 1024 * 1024;
  public static final Duration DEFAULT_RETRY_AFTER = Duration.ofSeconds(1);

  /** Without TLS. */
  public OtlpReceiverConfig(String name, HostPort grpc, HostPort http, long maxRequestBytes,
                            long maxDecompressedBytes, Duration retryAfter) {
    this(name, grpc, http, maxRequestBytes, maxDecompressedBytes, retryAfter, null, null, ReceiverLimits.DEFAULTS);
  }

  public OtlpReceiverConfig {
    if (grpc == null && http == null) {
      throw new IllegalArgumentException("enable at least one of grpc and http");
    }
    if (limits == null) {
      limits = ReceiverLimits.DEFAULTS;
    }
    if (maxDecompressedBytes < maxRequestBytes) {
      throw new IllegalArgumentException("max_decompressed_bytes (" + maxDecompressedBytes
          + ") must be at least max_request_bytes (" + maxRequestBytes + ")");
    }
  }

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public dev.telemetry.gateway.config.TlsServerConfig tls(String listener) {
    return switch (listener) {
      case "grpc" -> grpcTls;
      case "http" -> httpTls;
      default -> null;
    };
  }

  @Override
  public Map<String, HostPort> listeners() {
    Map<String, HostPort> out = new LinkedHashMap<>();
    if (grpc != null) {
      out.put("grpc", grpc);
    }
    if (http != null) {
      out.put("http", http);
    }
    return out;
  }

  /** Reads a receiver of type {@value #TYPE}. */
  public static OtlpReceiverConfig read(String name, ConfigNode node) {
    int before = node.problems();
    node.allowOnly("type", "grpc", "http", "max_request_bytes", "max_decompressed_bytes", "retry_after", "limits");
    HostPort grpc = listener(node, "grpc", DEFAULT_GRPC);
    HostPort http = listener(node, "http", DEFAULT_HTTP);
    dev.telemetry.gateway.config.TlsServerConfig grpcTls = tls(node, "grpc");
    dev.telemetry.gateway.config.TlsServerConfig httpTls = tls(node, "http");
    long maxRequest = node.bytes("max_request_bytes", DEFAULT_MAX_REQUEST_BYTES, 1024);
    long maxDecompressed = node.bytes("max_decompressed_bytes",
        Math.max(DEFAULT_MAX_DECOMPRESSED_BYTES, maxRequest), 1024);
    Duration retryAfter = node.duration("retry_after", DEFAULT_RETRY_AFTER, Duration.ofSeconds(1));
    ReceiverLimits limits = node.has("limits") ? ReceiverLimits.read(node.object("limits")) : ReceiverLimits.DEFAULTS;
    if (node.problems() > before) {
      return null;
    }
    return node.build(null, () -> new OtlpReceiverConfig(name, grpc, http, maxRequest, maxDecompressed, retryAfter,
        grpcTls, httpTls, limits));
  }

  private static dev.telemetry.gateway.config.TlsServerConfig tls(ConfigNode node, String key) {
    if (!node.has(key) || node.isBoolean(key)) {
      return null;
    }
    return dev.telemetry.gateway.config.TlsServerConfig.read(node.object(key), "tls");
  }

  /** {@code "grpc": {"endpoint": "host:port"}} enables a listener, {@code "grpc": false} disables it. */
  private static HostPort listener(ConfigNode node, String key, HostPort def) {
    if (!node.has(key)) {
      return def;
    }
    if (node.isBoolean(key)) {
      return node.bool(key, true) ? def : null;
    }
    ConfigNode l = node.object(key);
    l.allowOnly("endpoint", "tls");
    return l.hostPort("endpoint", def);
  }
}
