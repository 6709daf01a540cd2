package dev.telemetry.gateway.component;

import dev.telemetry.gateway.backpressure.HeapLedger;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;

/**
 * What every component is built with: the Vert.x instance, the meter registry, and the heap ledger that anything
 * holding data charges before it allocates.
 */
public record BuildContext(Vertx vertx, MeterRegistry registry, HeapLedger heap) {
}
