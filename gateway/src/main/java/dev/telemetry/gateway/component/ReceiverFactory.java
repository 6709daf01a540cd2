package dev.telemetry.gateway.component;

import dev.telemetry.gateway.config.ReceiverConfig;
import dev.telemetry.gateway.pipeline.TelemetryConsumer;
import dev.telemetry.gateway.receiver.Receiver;

/** Builds a receiver from its config; what it decodes goes to {@code consumer}, whose future is the client's answer. */
@FunctionalInterface
public interface ReceiverFactory<C extends ReceiverConfig> {
  Receiver create(BuildContext context, C config, TelemetryConsumer consumer);
}
