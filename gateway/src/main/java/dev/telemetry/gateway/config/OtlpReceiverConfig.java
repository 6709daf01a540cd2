package dev.telemetry.gateway.config;

import java.time.Duration;

/**
 * The OTLP receiver: gRPC and/or HTTP listeners (null when disabled) and the limits applied to every request.
 * {@code maxRequestBytes} bounds the body as sent (compressed), {@code maxDecompressedBytes} what it may inflate to;
 * {@code retryAfter} is the delay suggested to clients when the gateway is back-pressured.
 */
public record OtlpReceiverConfig(String name, HostPort grpc, HostPort http, long maxRequestBytes,
                                 long maxDecompressedBytes, Duration retryAfter) implements ReceiverConfig {
  public static final String TYPE = "otlp";
  public static final HostPort DEFAULT_GRPC = new HostPort("localhost", 4317);
  public static final HostPort DEFAULT_HTTP = new HostPort("localhost", 4318);
  public static final long DEFAULT_MAX_REQUEST_BYTES = 4L * 1024 * 1024;
  public static final long DEFAULT_MAX_DECOMPRESSED_BYTES = 16L * 1024 * 1024;
  public static final Duration DEFAULT_RETRY_AFTER = Duration.ofSeconds(1);

  public OtlpReceiverConfig {
    if (grpc == null && http == null) {
      throw new IllegalArgumentException("enable at least one of grpc and http");
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
}
