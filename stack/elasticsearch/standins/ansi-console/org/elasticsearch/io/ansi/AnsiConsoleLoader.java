package org.elasticsearch.io.ansi;

import java.io.PrintStream;
import java.util.function.Supplier;

/**
 * Stand-in for the jansi-based console loader that the server loads by this exact class name
 * from lib/tools/ansi-console/ (ConsoleLoader). Returning null means "no interactive console":
 * the node then logs only through the appenders of config/log4j2.properties.
 */
public class AnsiConsoleLoader implements Supplier<PrintStream> {
    public AnsiConsoleLoader() {}

    @Override
    public PrintStream get() {
        return null;
    }
}
