package dev.telemetry.gateway.testing;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.testing.trace.TestSpanData;
import io.opentelemetry.sdk.trace.data.StatusData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** One span through an OpenTelemetry SDK exporter, synchronously: what a client sees (success or failure). */
public final class SdkExports {
  private SdkExports() {
  }

  /** Exports one span named {@code name}; true when the exporter reports success. */
  public static boolean exportSpan(SpanExporter exporter, String name) {
    return exporter.export(List.of(TestSpanData.builder().setName(name).setKind(SpanKind.SERVER)
        .setSpanContext(SpanContext.create("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331",
            TraceFlags.getSampled(), TraceState.getDefault()))
        .setStartEpochNanos(1_700_000_000_000_000_000L).setEndEpochNanos(1_700_000_000_100_000_000L)
        .setHasEnded(true).setStatus(StatusData.unset()).setResource(Resource.create(Attributes.empty())).build()))
        .join(15, TimeUnit.SECONDS).isSuccess();
  }
}
