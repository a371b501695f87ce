"""Issue 18's attacks run black-box against the real agent process and real module runs
(``attacks.py``); ``tests/bench/security.py`` runs them in full, ``test_security_quick.py`` quick."""
