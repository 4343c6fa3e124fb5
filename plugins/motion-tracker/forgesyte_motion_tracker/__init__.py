"""The motion-tracker plugin: moving objects found by background subtraction, then tracked."""
