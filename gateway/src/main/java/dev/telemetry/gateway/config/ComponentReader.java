package dev.telemetry.gateway.config;

/**
 * Reads one component's config object (the {@code type} key already checked) into its immutable record. Problems are
 * reported on the node with their JSON paths; a reader that found any returns null and the loader builds nothing.
 */
@FunctionalInterface
public interface ComponentReader<C> {
  C read(String name, ConfigNode node);
}
