package dev.telemetry.gateway.component;

import dev.telemetry.gateway.backpressure.HeapLedger;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;

/**
 * What every component is built with: the Vert.x instance, the meter registry, the heap ledger that anything
 * holding data charges before it allocates, and this gateway's instance ID (what it derives is attributed to it, so
 * that several gateways' series never collide).
 */
public record BuildContext(Vertx vertx, MeterRegistry registry, HeapLedger heap, String instance) {
}
