"""The series' fixed cast: characters whose every part always has the same colour.

Each character is drawn in its own local frame (head radius 1, head centre at the origin, y down) from
filled palette shapes outlined in ink, so that a part is recognisable by its shape and texture: the
captain's straw hat and red vest, the swordsman's green crew cut and three swords, the navigator's long
orange hair and striped top, the mascot's pink top hat, antlers and blue nose. The wanderer (lavender
ponytail, goggles, lime scarf, long teal coat, navy boots, a brass lantern) joins only in the new arc
(`arcs.ARCS`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .ink import Canvas, capsule, ellipse, polar, rect
from .palette import INDEX
from .scenes import lantern

LINE = 0.07  # outline width in head radii


@dataclass
class Pose:
    arms: tuple[tuple[float, float], tuple[float, float]]  # (upper, lower-relative) angles, left then right
    legs: tuple[tuple[float, float], tuple[float, float]]
    tilt: float = 0.0  # head tilt, degrees
    eyes: str = "open"  # open | closed | angry
    mouth: str = "smile"  # smile | grin | open | line
    holds: str | None = None  # prop in the right hand: meat | staff | lantern


ARM_POSES = {
    "rest": ((8, 18), (0, 20)),
    "raise": ((140, 175), (-15, 15)),
    "akimbo": ((35, 50), (-120, -95)),
    "point": ((75, 100), (-10, 10)),
    "flex": ((55, 80), (80, 110)),
}
LEG_POSES = {
    "stand": ((3, 10), (-4, 0)),
    "spread": ((18, 30), (-10, 0)),
}


def random_pose(rng: np.random.Generator, holds: str | None = None) -> Pose:
    def pick(table, key):
        (a0, a1), (b0, b1) = table[key]
        return float(rng.uniform(a0, a1)), float(rng.uniform(b0, b1))

    arm_keys = list(ARM_POSES)
    arms = (pick(ARM_POSES, arm_keys[rng.integers(len(arm_keys))]),
            pick(ARM_POSES, arm_keys[rng.integers(len(arm_keys))]))
    if rng.random() < 0.25:  # running: one leg forward-out, the other bent back
        legs = ((float(rng.uniform(30, 50)), float(rng.uniform(-70, -40))),
                (float(rng.uniform(-15, 0)), float(rng.uniform(10, 30))))
    else:
        lk = "spread" if rng.random() < 0.4 else "stand"
        legs = (pick(LEG_POSES, lk), pick(LEG_POSES, lk))
    if holds is not None:
        arms = (arms[0], pick(ARM_POSES, "flex" if holds == "meat" else "point"))
    return Pose(arms=arms, legs=legs, tilt=float(rng.uniform(-12, 12)),
                eyes=str(rng.choice(["open", "open", "open", "closed", "angry"])),
                mouth=str(rng.choice(["smile", "grin", "open", "line"])), holds=holds)


# ---------------------------------------------------------------- shared body parts

def _limb(c: Canvas, part, origin, angles, side, lengths, radii):
    """Two rounded segments from a joint; angles (upper, lower relative), 0 = down, 90 = outward."""
    up, low = angles
    mid = polar(origin, up, lengths[0], side)
    end = polar(mid, up + low, lengths[1], side)
    c.fill_union(part, [capsule(origin, mid, radii[0], radii[1]), capsule(mid, end, radii[1], radii[2])], LINE)
    return mid, end


def _tube(p0, p1, w0, w1):
    """Flat-ended trapezoid along a segment (trouser legs, sleeves)."""
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    d = p1 - p0
    n = np.array([-d[1], d[0]]) / (np.hypot(*d) + 1e-9)
    return np.array([p0 + n * w0, p1 + n * w1, p1 - n * w1, p0 - n * w0])


def _eyes(c: Canvas, style, dx=0.38, y=0.1, rx=0.17, ry=0.22, pupil=0.6, lashes=False):
    for s in (-1, 1):
        x = s * dx
        if style == "closed":
            c.stroke(ellipse(x, y + 0.05, rx, ry * 0.6, 200, 340, 12), 0.07)
            continue
        c.fill("white", ellipse(x, y, rx, ry, n=24), 0.05)
        c.blot(ellipse(x + 0.02, y + 0.03, rx * pupil, ry * pupil * 1.05, n=20))
        c.fill("white", ellipse(x - rx * 0.25, y - ry * 0.3, rx * 0.22, ry * 0.2, n=10), 0)
        if lashes:
            c.stroke(ellipse(x, y, rx * 1.05, ry * 1.05, 190, 350, 10), 0.09)
        brow = 0.18 if style == "angry" else -0.05
        c.stroke([(x - s * 0.2, y - ry - 0.14 - brow * 0.5), (x + s * 0.2, y - ry - 0.14 + brow)], 0.08)


def _mouth(c: Canvas, style, y=0.58, w=0.32):
    if style == "grin":
        c.fill("mouth", ellipse(0, y - 0.05, w * 1.3, 0.3, 0, 180, 16), 0.06)
        c.fill("white", [(-w * 1.2, y - 0.02), (w * 1.2, y - 0.02), (w * 1.1, y + 0.06), (-w * 1.1, y + 0.06)], 0.04)
    elif style == "open":
        c.fill("mouth", ellipse(0, y, w * 0.6, 0.2, n=16), 0.06)
    elif style == "smile":
        c.stroke(ellipse(0, y - 0.15, w, 0.18, 20, 160, 10), 0.06)
    else:
        c.stroke([(-w * 0.6, y), (w * 0.6, y + 0.02)], 0.06)


def _head(c: Canvas, pose: Pose, ears=True):
    if ears:
        for s in (-1, 1):
            c.fill("skin", ellipse(s * 0.92, 0.15, 0.18, 0.26, n=14), 0.05)
    c.fill("skin", ellipse(0, 0, 0.95, 1.05, n=48), LINE)


def _neck_and_torso(c: Canvas, part, shoulder=1.0, waist=0.88, y0=1.35, y1=3.6):
    c.fill("skin", rect(-0.3, 0.7, 0.3, 1.5), LINE)
    torso = np.concatenate([ellipse(-shoulder + 0.3, y0 + 0.3, 0.32, 0.3, 180, 270, 8),
                            ellipse(shoulder - 0.3, y0 + 0.3, 0.32, 0.3, 270, 360, 8),
                            [(waist, y1), (-waist, y1)]])
    c.fill(part, torso, LINE)
    return torso


def _hand(c: Canvas, at, r=0.28, part="skin"):
    c.fill(part, ellipse(at[0], at[1], r, r * 0.9, n=16), 0.06)


def _held(c: Canvas, prop, at, side):
    if prop == "meat":
        a = np.asarray(at, float) + (side * 0.1, -0.55)
        c.fill("white", capsule(a + (-0.15 * side, 0.9), a + (0.1 * side, -0.75), 0.1, 0.1), 0.05)
        for e in (a + (-0.15 * side, 0.95), a + (0.12 * side, -0.8)):
            c.fill("white", ellipse(e[0] - 0.08, e[1], 0.12, 0.12, n=10), 0.05)
            c.fill("white", ellipse(e[0] + 0.08, e[1], 0.12, 0.12, n=10), 0.05)
        c.fill("meat", ellipse(a[0], a[1], 0.55, 0.62, n=24), LINE)
        c.stroke(ellipse(a[0] + 0.1, a[1] - 0.1, 0.3, 0.35, 200, 300, 8), 0.05)
    elif prop == "staff":
        a = np.asarray(at, float)
        p0, p1 = a + (-0.4 * side, 1.6), a + (0.4 * side, -1.6)
        c.fill("stripe_blue", capsule(p0, p1, 0.09, 0.09), 0.05)
        for t in (0.33, 0.66):
            q = p0 + t * (p1 - p0)
            c.stroke([q + (-0.12, 0), q + (0.12, 0)], 0.05)
    elif prop == "lantern":
        lantern(c, np.asarray(at, float) + (0, 0.2), 0.55)
    _hand(c, at)


# ---------------------------------------------------------------- the characters

def captain(c: Canvas, pose: Pose):
    """Straw hat with red band, black spiky hair, open red vest, blue shorts with white cuffs, sandals."""
    for s, ang in zip((-1, 1), pose.legs):
        hip = (s * 0.45, 4.3)
        _, foot = _limb(c, "skin", hip, ang, s, (1.55, 1.6), (0.33, 0.27, 0.22))
        c.fill("sandal", ellipse(foot[0] + s * 0.15, foot[1] + 0.12, 0.4, 0.17, n=16), 0.06)
    for s, ang in zip((-1, 1), pose.legs):
        hip = (s * 0.48, 4.1)
        knee = polar(hip, ang[0], 1.0, s)
        c.fill("shorts_blue", _tube(hip, knee, 0.55, 0.5), LINE)
        cuff = _tube(polar(hip, ang[0], 0.85, s), polar(hip, ang[0], 1.2, s), 0.55, 0.52)
        c.fill("white", cuff, 0.06)
    c.fill("shorts_blue", rect(-0.98, 3.45, 0.98, 4.45), LINE)
    c.stroke([(0, 3.55), (0, 4.35)], 0.05)
    _neck_and_torso(c, "skin", 1.0, 0.88)
    c.stroke(ellipse(-0.3, 2.0, 0.3, 0.2, 20, 160, 8), 0.05)
    c.stroke(ellipse(0.3, 2.0, 0.3, 0.2, 20, 160, 8), 0.05)
    for s in (-1, 1):
        vest = np.array([(-1.1, 1.42), (-0.45, 1.35), (-0.36, 2.5), (-0.42, 3.58), (-0.98, 3.62), (-1.08, 2.5)])
        vest[:, 0] *= s
        c.fill("vest_red", vest, LINE)
        for y in (2.0, 2.6, 3.2):
            c.fill("gold", ellipse(s * 0.52, y, 0.07, 0.07, n=10), 0.04)
    for s, ang in zip((-1, 1), pose.arms):
        _, hand = _limb(c, "skin", (s * 0.92, 1.65), ang, s, (1.35, 1.3), (0.28, 0.24, 0.22))
        if s == 1 and pose.holds:
            _held(c, pose.holds, hand, s)
        else:
            _hand(c, hand)
    with c.transform(0, 1.0, angle=pose.tilt), c.transform(0, -1.0):
        _head(c, pose)
        _eyes(c, pose.eyes)
        _mouth(c, pose.mouth)
        c.stroke([(-0.55, 0.38), (-0.28, 0.42)], 0.05)  # the scar under the left eye
        c.stroke([(-0.48, 0.33), (-0.46, 0.46)], 0.04)
        c.stroke([(-0.37, 0.35), (-0.35, 0.48)], 0.04)
        crown = ellipse(0, -0.05, 1.08, 1.12, 180, 360, 13)
        crown[1::2] *= 1.12  # spikes
        fringe = np.array([(0.98, -0.05), (0.7, 0.05), (0.55, -0.3), (0.3, 0.0), (0.12, -0.3), (-0.1, 0.02),
                           (-0.3, -0.3), (-0.55, 0.05), (-0.72, -0.3), (-1.0, 0.2)])
        c.fill("hair_black", np.concatenate([crown, fringe]), LINE)
        with c.transform(0, -0.6, angle=-8):
            c.fill("hat_straw", ellipse(0, 0, 1.85, 0.42, n=48), LINE)
            for a in np.linspace(200, 340, 6):
                t = np.deg2rad(a)
                c.stroke([(1.5 * np.cos(t), 0.33 * np.sin(t)), (1.8 * np.cos(t), 0.4 * np.sin(t))], 0.04)
            dome = ellipse(0, -0.12, 1.0, 0.95, 180, 360, 24)
            c.fill("hat_straw", np.concatenate([dome, [(1.0, 0.05), (-1.0, 0.05)]]), LINE)
            yb = -0.42
            xb = 1.0 * np.sqrt(1 - ((yb + 0.12) / 0.95) ** 2)
            c.fill("hat_band", [(-1.0, 0.05), (1.0, 0.05), (1.0, -0.12), (xb, yb), (-xb, yb), (-1.0, -0.12)], 0.06)
            c.stroke(ellipse(0, -0.5, 0.6, 0.35, 200, 340, 10), 0.04)


def swordsman(c: Canvas, pose: Pose):
    """Green crew cut, three earrings, white T-shirt, green sash, dark trousers, three swords at the hip."""
    for k, ang in enumerate((25, 38, 50)):  # swords hang behind the hip, hilts forward
        hip = np.array((-0.75, 3.5 + 0.1 * k))
        tip = polar(hip, ang, 3.2, -1)
        c.fill("sheath", capsule(hip, tip, 0.13, 0.11), 0.06)
        hilt = polar(hip, ang + 180, 1.0, -1)
        c.fill("white", capsule(hip, hilt, 0.12, 0.12), 0.05)
        for t in (0.3, 0.55, 0.8):
            q = hip + t * (hilt - hip)
            c.stroke([q + (-0.1, -0.06), q + (0.1, 0.06)], 0.04)
        c.fill("gold", ellipse(hip[0], hip[1], 0.22, 0.22, n=14), 0.05)
    for s, ang in zip((-1, 1), pose.legs):
        hip = (s * 0.45, 4.2)
        _, foot = _limb(c, "pants_dark", hip, ang, s, (1.55, 1.55), (0.42, 0.37, 0.33))
        c.fill("black", ellipse(foot[0] + s * 0.15, foot[1] + 0.15, 0.45, 0.22, n=16), 0.06)
    c.fill("pants_dark", rect(-1.0, 3.6, 1.0, 4.6), LINE)
    for s, ang in zip((-1, 1), pose.arms):
        _, hand = _limb(c, "skin", (s * 1.0, 1.65), ang, s, (1.35, 1.3), (0.3, 0.27, 0.24))
        _hand(c, hand, 0.3)
    _neck_and_torso(c, "white", 1.15, 0.98, y1=3.7)
    c.fill("skin", [(-0.32, 1.35), (0.32, 1.35), (0, 1.95)], 0.05)
    c.stroke([(-0.6, 2.4), (-0.3, 2.8)], 0.04)
    c.stroke([(0.55, 2.6), (0.3, 3.0)], 0.04)
    for s, ang in zip((-1, 1), pose.arms):
        sh = np.array((s * 0.95, 1.62))
        c.fill("white", _tube(sh, polar(sh, ang[0], 0.75, s), 0.42, 0.38), LINE)
    c.fill("sash_green", rect(-1.02, 3.1, 1.02, 3.8), LINE)
    for x in np.linspace(-0.85, 0.85, 9):
        c.stroke([(x, 3.18), (x, 3.72)], 0.03)
    with c.transform(0, 1.0, angle=pose.tilt), c.transform(0, -1.0):
        _head(c, pose)
        for k in range(3):
            c.fill("gold", capsule((-0.98, 0.32 + 0.1 * k), (-1.0, 0.45 + 0.1 * k), 0.035, 0.035, 4), 0.03)
        _eyes(c, "angry" if pose.eyes == "open" else pose.eyes, ry=0.14, pupil=0.45)
        c.stroke([(-0.5, -0.15), (-0.3, 0.45)], 0.05)  # scar across the left eye
        _mouth(c, pose.mouth)
        top = ellipse(0, -0.08, 1.02, 1.08, 182, 358, 21)
        top[1::2] *= 1.04  # cropped bumps
        line = np.array([(0.98, 0.0), (0.75, -0.35), (0.3, -0.42), (-0.3, -0.42), (-0.75, -0.35), (-0.98, 0.0)])
        c.fill("hair_green", np.concatenate([top, line]), LINE)
        rng = np.random.default_rng(7)  # fixed hair texture
        for x, y in zip(rng.uniform(-0.75, 0.75, 12), rng.uniform(-0.95, -0.5, 12)):
            c.stroke([(x, y), (x + 0.06, y + 0.12)], 0.035)


def navigator(c: Canvas, pose: Pose):
    """Long orange hair, white top with blue stripes, pink skirt, gold bracelet."""
    back = np.concatenate([ellipse(0, -0.05, 1.15, 1.15, 180, 360, 20),
                           [(1.3, 1.2), (1.45, 2.6), (1.1, 3.0), (0.7, 2.7), (0.3, 3.05), (-0.3, 2.75),
                            (-0.75, 3.05), (-1.15, 2.7), (-1.45, 2.6), (-1.3, 1.2)]])
    c.fill("hair_orange", back, LINE)
    for x in (-1.1, -0.8, 0.8, 1.1):
        c.stroke([(x, 1.3), (x * 1.1, 2.5)], 0.04)
    for s, ang in zip((-1, 1), pose.legs):
        hip = (s * 0.4, 4.2)
        _, foot = _limb(c, "skin", hip, ang, s, (1.6, 1.6), (0.3, 0.24, 0.19))
        c.fill("sandal", ellipse(foot[0] + s * 0.12, foot[1] + 0.1, 0.33, 0.14, n=16), 0.06)
    skirt = [(-0.85, 3.35), (0.85, 3.35), (1.4, 4.95), (0.5, 5.05), (-0.5, 5.05), (-1.4, 4.95)]
    c.fill("skirt_pink", skirt, LINE)
    for x in (-0.7, -0.25, 0.25, 0.7):
        c.stroke([(x * 0.6, 3.5), (x * 1.1, 4.95)], 0.04)
    torso = _neck_and_torso(c, "white", 0.9, 0.72, y1=3.45)
    inside = c.mask_of(torso)
    for y in np.arange(1.75, 3.4, 0.36):
        band = inside & c.mask_of(rect(-1.2, y, 1.2, y + 0.18))
        c.label[band] = INDEX["stripe_blue"]
    c.stroke(torso, LINE, closed=True)
    for s, ang in zip((-1, 1), pose.arms):
        sh = (s * 0.78, 1.62)
        elbow, hand = _limb(c, "skin", sh, ang, s, (1.35, 1.25), (0.23, 0.2, 0.18))
        wrist = elbow + 0.8 * (hand - elbow)
        c.fill("gold", capsule(wrist - 0.04 * (hand - elbow), wrist + 0.1 * (hand - elbow), 0.22, 0.22, 6), 0.05)
        if s == 1 and pose.holds:
            _held(c, pose.holds, hand, s)
        else:
            _hand(c, hand, 0.24)
    with c.transform(0, 1.0, angle=pose.tilt), c.transform(0, -1.0):
        _head(c, pose, ears=False)
        _eyes(c, pose.eyes, ry=0.25, lashes=True)
        _mouth(c, pose.mouth, w=0.26)
        top = ellipse(0, -0.05, 1.12, 1.15, 180, 360, 20)
        bangs = np.array([(1.12, -0.05), (1.08, 1.0), (0.8, 0.2), (0.7, -0.35), (0.35, -0.1), (0.2, -0.45),
                          (-0.25, -0.15), (-0.5, -0.5), (-0.75, -0.1), (-0.85, 0.3), (-1.1, 1.0), (-1.12, -0.05)])
        c.fill("hair_orange", np.concatenate([top, bangs]), LINE)
        for a in (220, 250, 290, 320):
            t = np.deg2rad(a)
            c.stroke([(0.95 * np.cos(t), 0.95 * np.sin(t)), (0.5 * np.cos(t), 0.55 * np.sin(t) - 0.1)], 0.035)


def mascot(c: Canvas, pose: Pose):
    """Small reindeer: brown fur, blue nose, antlers, pink top hat with a white cross, maroon shorts."""
    for s, ang in zip((-1, 1), pose.legs):
        hip = np.array((s * 0.35, 2.35))
        foot = polar(hip, ang[0] * 0.5, 0.65, s)
        c.fill("fur", capsule(hip, foot, 0.25, 0.22), LINE)
        c.fill("black", ellipse(foot[0], foot[1] + 0.12, 0.24, 0.13, n=12), 0.05)
    c.fill("fur", ellipse(0, 1.65, 0.72, 0.8, n=32), LINE)
    shorts = np.concatenate([[(-0.72, 1.9), (0.72, 1.9)], ellipse(0, 1.9, 0.72, 0.62, 0, 180, 16)])
    c.fill("shorts_maroon", shorts, LINE)
    for s, ang in zip((-1, 1), pose.arms):
        sh = np.array((s * 0.55, 1.2))
        hand = polar(sh, ang[0], 0.85, s)
        c.fill("fur", capsule(sh, hand, 0.2, 0.17), LINE)
        c.fill("black", ellipse(hand[0], hand[1], 0.14, 0.12, n=10), 0.04)
    with c.transform(0, 0.9, angle=pose.tilt), c.transform(0, -0.9):
        for s in (-1, 1):  # antlers
            base = np.array((s * 0.5, -0.85))
            tip = base + (s * 0.55, -1.1)
            c.fill("antler", capsule(base, tip, 0.11, 0.08, 6), 0.05)
            mid = base + 0.55 * (tip - base)
            c.fill("antler", capsule(mid, mid + (s * 0.45, 0.05), 0.08, 0.06, 6), 0.05)
            c.fill("antler", capsule(mid, mid + (-s * 0.15, -0.45), 0.08, 0.06, 6), 0.05)
        for s in (-1, 1):
            c.fill("fur", ellipse(s * 1.05, -0.15, 0.35, 0.16, n=14), 0.06)
        c.fill("fur", ellipse(0, 0, 1.0, 0.92, n=40), LINE)
        c.fill("muzzle", ellipse(0, 0.45, 0.5, 0.32, n=24), 0.06)
        c.fill("nose_blue", ellipse(0, 0.28, 0.2, 0.13, n=14), 0.05)
        _eyes(c, pose.eyes, dx=0.42, y=-0.05, rx=0.2, ry=0.24, pupil=0.7)
        c.stroke(ellipse(0, 0.55, 0.18, 0.12, 20, 160, 8), 0.05)
        c.fill("hat_pink", ellipse(0, -0.68, 1.2, 0.26, n=32), LINE)
        crown = np.concatenate([ellipse(0, -1.85, 0.72, 0.18, 180, 360, 14), [(0.72, -0.8), (-0.72, -0.8)]])
        c.fill("hat_pink", crown, LINE)
        c.stroke(ellipse(0, -1.85, 0.72, 0.18, 0, 180, 10), 0.05)
        c.fill("white", capsule((-0.45, -1.6), (0.45, -0.98), 0.09, 0.09, 4), 0.04)
        c.fill("white", capsule((0.45, -1.6), (-0.45, -0.98), 0.09, 0.09, 4), 0.04)


def wanderer(c: Canvas, pose: Pose):
    """Lavender ponytail, goggles on the brow, lime scarf, long open teal coat over a white shirt, navy boots."""
    tail = [capsule((0.3, -0.85), (-0.9, -0.55), 0.34, 0.4), capsule((-0.9, -0.55), (-1.45, 1.0), 0.4, 0.34),
            capsule((-1.45, 1.0), (-1.2, 2.9), 0.34, 0.1)]
    c.fill_union("hair_lavender", tail, LINE)
    for dx in (0.0, 0.2):
        c.stroke([(-1.0 + dx, -0.3), (-1.35 + dx, 1.0), (-1.2 + dx, 2.3)], 0.04)
    c.fill("coat_teal", [(-1.05, 3.3), (1.05, 3.3), (1.55, 5.75), (-1.55, 5.75)], LINE)  # the coat's back
    for s, ang in zip((-1, 1), pose.legs):
        hip = (s * 0.42, 4.2)
        knee, foot = _limb(c, "pants_dark", hip, ang, s, (1.55, 1.5), (0.38, 0.33, 0.3))
        c.fill("boots_navy", _tube(knee + 0.3 * (foot - knee), foot, 0.4, 0.36), LINE)
        c.fill("boots_navy", ellipse(foot[0] + s * 0.2, foot[1] + 0.1, 0.48, 0.22, n=16), 0.06)
        cuff = knee + 0.3 * (foot - knee)
        c.stroke([cuff + (-0.42, 0.05), cuff + (0.42, -0.05)], 0.05)
    c.fill("pants_dark", rect(-0.95, 3.5, 0.95, 4.5), LINE)
    _neck_and_torso(c, "white", 1.05, 0.9, y1=3.6)
    c.fill("black", rect(-0.9, 3.25, 0.9, 3.6), 0.05)  # belt and buckle
    c.fill("gold", rect(-0.16, 3.22, 0.16, 3.63), 0.04)
    for s in (-1, 1):
        front = np.array([(-1.2, 1.42), (-0.42, 1.4), (-0.36, 2.6), (-0.5, 3.6), (-0.75, 5.8), (-1.6, 5.8),
                          (-1.1, 3.6), (-1.2, 2.5)])
        front[:, 0] *= s
        c.fill("coat_teal", front, LINE)
        c.stroke([(s * 0.42, 1.4), (s * 0.75, 2.2), (s * 0.38, 2.5)], 0.05)  # lapel
        for y in (2.8, 3.3):
            c.fill("gold", ellipse(s * 0.58, y, 0.07, 0.07, n=10), 0.04)
    for s, ang in zip((-1, 1), pose.arms):
        elbow, hand = _limb(c, "coat_teal", (s * 0.98, 1.7), ang, s, (1.35, 1.2), (0.34, 0.3, 0.28))
        cuff = elbow + 0.82 * (hand - elbow)
        c.fill("white", capsule(cuff, elbow + 0.95 * (hand - elbow), 0.27, 0.26, 6), 0.05)
        if s == 1 and pose.holds:
            _held(c, pose.holds, hand, s)
        else:
            _hand(c, hand, 0.25)
    with c.transform(0, 1.0, angle=pose.tilt), c.transform(0, -1.0):
        _head(c, pose)
        scarf = [capsule((-0.8, 1.35), (0.8, 1.35), 0.25, 0.25), capsule((0.45, 1.4), (0.75, 2.6), 0.22, 0.2)]
        c.fill_union("scarf_lime", scarf, LINE)
        for x in (0.6, 0.72, 0.84):
            c.stroke([(x, 2.65), (x + 0.03, 2.85)], 0.04)  # fringe
        _eyes(c, pose.eyes, dx=0.36, ry=0.2, pupil=0.55)
        _mouth(c, pose.mouth, w=0.28)
        top = ellipse(0, -0.05, 1.06, 1.1, 180, 360, 20)
        bangs = np.array([(1.06, -0.05), (0.95, 0.5), (0.75, -0.2), (0.4, -0.05), (0.1, -0.4), (-0.35, -0.1),
                          (-0.7, -0.45), (-0.9, 0.2), (-1.06, -0.05)])
        c.fill("hair_lavender", np.concatenate([top, bangs]), LINE)
        c.fill("black", [(-1.08, -0.55), (1.08, -0.55), (1.02, -0.75), (-1.02, -0.75)], 0.04)  # goggle strap
        for s in (-1, 1):
            c.fill("brass", ellipse(s * 0.4, -0.72, 0.34, 0.27, n=20), 0.05)
            c.fill("ice", ellipse(s * 0.4, -0.72, 0.19, 0.14, n=16), 0.04)


@dataclass(frozen=True)
class Character:
    name: str
    draw: Callable[[Canvas, Pose], None]
    top: float  # highest local y (hat, antlers)
    feet: float  # lowest local y (soles)
    props: tuple[str, ...] = ()


CAST: dict[str, Character] = {
    "captain": Character("captain", captain, -1.75, 7.5, ("meat",)),
    "swordsman": Character("swordsman", swordsman, -1.2, 7.5),
    "navigator": Character("navigator", navigator, -1.25, 7.5, ("staff",)),
    "mascot": Character("mascot", mascot, -2.9, 3.15),
    "wanderer": Character("wanderer", wanderer, -1.15, 7.5, ("lantern",)),
}
HUMAN_HEIGHT = 9.25  # local units from hat to soles: the scale of a full figure


def place(c: Canvas, who: str, x: float, head_y: float, scale: float, pose: Pose, flip: bool = False):
    """Draw a character with its head centre at (x, head_y) pixels and head radius `scale` pixels;
    returns (head centre (x, y), head radius) in pixels."""
    with c.transform(x, head_y, scale, flip=flip):
        CAST[who].draw(c, pose)
    return np.array([x, head_y]), scale
