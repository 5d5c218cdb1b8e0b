// The error page needs no script; this module exists so every page loads the same way.
document.getElementById("main")?.focus();
