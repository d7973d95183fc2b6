"""Smooth random-walk trajectories in a square box (the rat-like motion model of Raudies & Hasselmo
2012 that Sorscher et al. 2019 train on).

The heading turns by Gaussian angular velocity and the speed is Rayleigh-distributed; near a wall,
an animal heading into it turns until it runs parallel to the wall and slows down, so trajectories
cover the box without piling up at the borders. The network sees only the velocity
``(v cos theta, v sin theta)``; its initial state comes from the start position's place code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Motion:
    """Motion model; lengths in m, times in s, the box is ``[-box/2, box/2]^2``."""

    box: float = 2.2
    steps: int = 20
    dt: float = 0.02
    turn_sd: float = 11.52  # angular velocity SD (rad/s)
    speed_scale: float = 0.13 * 2 * np.pi  # Rayleigh scale of the forward speed (m/s)
    border: float = 0.03  # distance from a wall within which the animal avoids it (m)
    wall_slowdown: float = 0.25


@dataclass
class Batch:
    """``start (B, 2)``, ``position (B, T, 2)`` after each step, ``velocity (B, T, 2)``, ``heading (B, T)``."""

    start: np.ndarray
    position: np.ndarray
    velocity: np.ndarray
    heading: np.ndarray


def _nearest_wall(position: np.ndarray, half: float) -> tuple[np.ndarray, np.ndarray]:
    """Distance to the nearest wall and the angle of that wall's outward normal."""
    distances = np.stack(
        [
            half - position[:, 0],
            half - position[:, 1],
            half + position[:, 0],
            half + position[:, 1],
        ],
        axis=1,
    )
    wall = distances.argmin(axis=1)
    return distances[np.arange(len(wall)), wall], wall * (np.pi / 2)


def _wrap(angle: np.ndarray) -> np.ndarray:
    return (angle + np.pi) % (2 * np.pi) - np.pi


def sample(n: int, motion: Motion, rng: np.random.Generator) -> Batch:
    """``n`` trajectories of ``motion.steps`` steps, deterministic given ``rng``."""
    half = motion.box / 2
    steps = motion.steps
    position = rng.uniform(-half + motion.border, half - motion.border, size=(n, 2))
    heading = rng.uniform(-np.pi, np.pi, size=n)
    start = position.copy()
    turns = rng.normal(0.0, motion.turn_sd * motion.dt, size=(n, steps))
    speeds = rng.rayleigh(motion.speed_scale, size=(n, steps))
    positions, velocities, headings = (
        np.zeros((n, steps, 2)),
        np.zeros((n, steps, 2)),
        np.zeros((n, steps)),
    )
    for t in range(steps):
        distance, normal = _nearest_wall(position, half)
        towards = _wrap(heading - normal)  # 0: straight into the wall
        near = (distance < motion.border) & (np.abs(towards) < np.pi / 2)
        speed = np.where(near, speeds[:, t] * motion.wall_slowdown, speeds[:, t])
        turn = np.where(near, np.sign(towards) * (np.pi / 2 - np.abs(towards)), 0.0) + turns[:, t]
        heading = _wrap(heading + turn)
        velocity = speed[:, None] * np.stack([np.cos(heading), np.sin(heading)], axis=1)
        position = np.clip(position + velocity * motion.dt, -half, half)
        positions[:, t], velocities[:, t], headings[:, t] = position, velocity, heading
    return Batch(start, positions, velocities, headings)
