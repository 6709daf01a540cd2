package dev.telemetry.gateway.exporter;

/** A completed export. {@code rejected} items were refused by the backend for good (OTLP partial success). */
public record ExportResult(long rejected, String message) {
  public static final ExportResult OK = new ExportResult(0, "");
}
