package dev.telemetry.gateway.receiver.otlp;

import dev.telemetry.gateway.config.ConfigNode;
import java.time.Duration;

/**
 * What one client may hold or make the gateway allocate, per OTLP receiver ({@code "limits"} in its config).
 * Connections: how many (per listener), HTTP/2 streams per connection, header size and count, how long a request's
 * headers and body may take to arrive (slow clients are cut off), how long a connection may idle, how often it may
 * ping. Requests: attributes per item, resource or scope, entries per array or map value, nesting of values — checked
 * on the wire before anything is decoded, so a request cannot allocate beyond what its size suggests.
 */
public record ReceiverLimits(int maxConnections, int maxConcurrentStreams, int maxHeaderBytes, int maxHeaders,
                             Duration readHeaderTimeout, Duration readTimeout, Duration idleTimeout,
                             Duration minPingInterval, int maxAttributes, int maxArrayLength, int maxValueDepth) {
  public static final ReceiverLimits DEFAULTS = new ReceiverLimits(4096, 100, 16 * 1024, 100, Duration.ofSeconds(30),
      Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofSeconds(10), 1024, 10_000, 16);

  public ReceiverLimits {
    if (maxConnections < 1 || maxConcurrentStreams < 1 || maxHeaderBytes < 1024 || maxHeaders < 8
        || maxAttributes < 1 || maxArrayLength < 1 || maxValueDepth < 1) {
      throw new IllegalArgumentException("limits must be positive");
    }
  }

  /** The caps checked on a request's bytes before it is decoded. */
  public dev.telemetry.gateway.otlp.WireScan.Limits items() {
    return new dev.telemetry.gateway.otlp.WireScan.Limits(maxAttributes, maxArrayLength, maxValueDepth);
  }

  /** Reads {@code "limits"}; absent keys keep their defaults. */
  static ReceiverLimits read(ConfigNode node) {
    node.allowOnly("max_connections", "max_concurrent_streams", "max_header_bytes", "max_headers",
        "read_header_timeout", "read_timeout", "idle_timeout", "min_ping_interval", "max_attributes",
        "max_array_length", "max_value_depth");
    ReceiverLimits d = DEFAULTS;
    int connections = (int) node.integer("max_connections", d.maxConnections, 1, 1_000_000);
    int streams = (int) node.integer("max_concurrent_streams", d.maxConcurrentStreams, 1, 10_000);
    int headerBytes = (int) node.bytes("max_header_bytes", d.maxHeaderBytes, 1024);
    if (headerBytes > (1 << 20)) {
      node.error("max_header_bytes", "must be at most 1MiB, found " + headerBytes);
    }
    int headers = (int) node.integer("max_headers", d.maxHeaders, 8, 10_000);
    Duration headerTimeout = node.duration("read_header_timeout", d.readHeaderTimeout, Duration.ofMillis(100));
    Duration readTimeout = node.duration("read_timeout", d.readTimeout, Duration.ofMillis(100));
    Duration idle = node.duration("idle_timeout", d.idleTimeout, Duration.ofSeconds(1));
    Duration ping = node.duration("min_ping_interval", d.minPingInterval, Duration.ZERO);
    int attributes = (int) node.integer("max_attributes", d.maxAttributes, 1, 1_000_000);
    int array = (int) node.integer("max_array_length", d.maxArrayLength, 1, 10_000_000);
    int depth = (int) node.integer("max_value_depth", d.maxValueDepth, 1, 32);
    for (String key : new String[] {"read_header_timeout", "read_timeout", "idle_timeout", "min_ping_interval"}) {
      Object v = node.value(key);
      Duration parsed = switch (key) {
        case "read_header_timeout" -> headerTimeout;
        case "read_timeout" -> readTimeout;
        case "idle_timeout" -> idle;
        default -> ping;
      };
      if (v != null && parsed.compareTo(Duration.ofDays(1)) > 0) {
        node.error(key, "must be at most 24h, found " + v);
      }
    }
    return new ReceiverLimits(connections, streams, headerBytes, headers, headerTimeout, readTimeout, idle, ping,
        attributes, array, depth);
  }
}
