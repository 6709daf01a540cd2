package dev.telemetry.gateway.component;

import dev.telemetry.gateway.config.ConnectorConfig;
import dev.telemetry.gateway.connector.Connector;

/** Builds a connector from its config. */
@FunctionalInterface
public interface ConnectorFactory<C extends ConnectorConfig> {
  Connector create(BuildContext context, C config);
}
