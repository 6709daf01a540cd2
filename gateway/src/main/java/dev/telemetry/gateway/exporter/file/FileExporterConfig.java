package dev.telemetry.gateway.exporter.file;

import dev.telemetry.gateway.config.BatchConfig;
import dev.telemetry.gateway.config.ConfigNode;
import dev.telemetry.gateway.config.ExporterConfig;
import dev.telemetry.gateway.config.QueueConfig;
import dev.telemetry.gateway.config.RetryConfig;

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

  @Override
  public Path exclusiveDirectory() {
    return directory;
  }

  /** Reads an exporter of type {@value #TYPE}. */
  public static FileExporterConfig read(String name, ConfigNode node) {
    int before = node.problems();
    QueueConfig queue = QueueConfig.read(node.object("queue"), QueueConfig.DEFAULTS);
    BatchConfig batch = BatchConfig.read(node.object("batch"));
    RetryConfig retry = RetryConfig.read(node.object("retry"));
    node.allowOnly("type", "directory", "max_file_bytes", "max_files", "queue", "batch", "retry");
    String dir = node.string("directory", null);
    long maxFileBytes = node.bytes("max_file_bytes", DEFAULT_MAX_FILE_BYTES, 1024);
    int maxFiles = (int) node.integer("max_files", DEFAULT_MAX_FILES, 1, 10_000);
    if (node.problems() > before) {
      return null;
    }
    return node.build(null,
        () -> new FileExporterConfig(name, Path.of(dir), maxFileBytes, maxFiles, queue, batch, retry));
  }
}
