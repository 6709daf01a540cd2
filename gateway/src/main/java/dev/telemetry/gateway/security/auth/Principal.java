package dev.telemetry.gateway.security.auth;

import dev.telemetry.gateway.otlp.Signal;
import java.util.Set;

/** An authenticated sender: the credential's name (never its secret), how it was checked, its tenant and signals. */
public record Principal(String name, String method, String tenant, Set<Signal> signals) {
}
