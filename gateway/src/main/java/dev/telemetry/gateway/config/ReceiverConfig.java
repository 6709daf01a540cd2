package dev.telemetry.gateway.config;

import java.util.Map;

/** A configured receiver; {@code type} selects the implementation (see {@link ComponentTypes}). */
public interface ReceiverConfig {
  String name();

  String type();

  /**
   * The listeners it binds, by the key under which each is configured (e.g. {@code grpc}, {@code http}); the loader
   * rejects two listeners on one port, and the cluster forwards over a receiver's {@code grpc} listener.
   */
  default Map<String, HostPort> listeners() {
    return Map.of();
  }

  /** TLS of a listener (null: plaintext): what a cluster member forwarding to it must speak. */
  default TlsServerConfig tls(String listener) {
    return null;
  }
}
