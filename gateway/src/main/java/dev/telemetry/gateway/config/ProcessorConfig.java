package dev.telemetry.gateway.config;

/** A configured processor; {@code type} selects the implementation (see {@link ComponentTypes}). */
public interface ProcessorConfig {
  String name();

  String type();
}
