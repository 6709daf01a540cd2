package dev.telemetry.gateway.config;

import java.nio.file.Path;

/**
 * The file exporter: one OTLP/JSON export request per line in {@code <directory>/<signal>.jsonl}; a file that
 * reaches {@code maxFileBytes} is rotated, and only the newest {@code maxFiles} rotated files are kept.
 */
public record FileExporterConfig(String name, Path directory, long maxFileBytes, int maxFiles, QueueConfig queue,
                                 BatchConfig batch, RetryConfig retry) implements ExporterConfig {
  public static final String TYPE = "file";
  public static final long DEFAULT_MAX_FILE_BYTES = 64L * 1024 * 1024;
  public static final int DEFAULT_MAX_FILES = 5;

  public FileExporterConfig {
    if (maxFileBytes < 1024 || maxFiles < 1) {
      throw new IllegalArgumentException("max_file_bytes must be at least 1KiB and max_files at least 1");
    }
  }

  @Override
  public String type() {
    return TYPE;
  }
}
