package dev.telemetry.gateway.config;

/** A configured receiver; {@code type} selects the implementation. */
public sealed interface ReceiverConfig permits OtlpReceiverConfig {
  String name();

  String type();
}
