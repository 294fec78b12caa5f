"""PDF and QR building blocks shared by the inspection documents and the rectification notices."""
