// Wiring only: command line -> config -> drives -> object layer -> servers.
console.log("shale: not wired yet");
